"""odop-sync: one canonical ODOP artisan catalog, synced to the marketplaces."""

__version__ = "0.1.0"
