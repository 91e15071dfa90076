"""Documents in: read, clean, split into sentences and passages."""
