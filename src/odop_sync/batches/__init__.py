"""Publish batches: JSON, CSV and XLSX intake, row validation, per-row results."""
