"""Orders pulled from every marketplace account: upsert, status history, stock moved once."""
