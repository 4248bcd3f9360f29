"""The service's one durable job runner: jobs stored in the database, claimed with leases,
retried with backoff, resumable after a crash. Batches use it now; the sync engine runs on it."""
