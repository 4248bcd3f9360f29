"""Sales figures from the order rollups: the summary API and its CSV export."""
