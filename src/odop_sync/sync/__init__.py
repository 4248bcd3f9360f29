"""The sync engine: projection, leases, pushes, retries, submissions, wake-ups, schedules."""
