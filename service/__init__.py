"""The running service: the writer, the ingest jobs and the one scheduler that drives them."""
