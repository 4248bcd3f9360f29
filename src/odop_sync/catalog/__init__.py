"""The canonical catalog: agencies, producers, products, variants, districts, identifiers."""
