"""Demo ODOP catalog: a seed batch (catalog.json) of fictional UP producers and their goods,
with one placeholder SVG tile per product image under images/."""
