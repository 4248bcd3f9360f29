"""Per (variant × account) listing state: desired vs confirmed, issues, stock derivation."""
