"""Domain-free helpers: problem+json errors, money, time, text, pagination."""
