"""Video processing: what the clip engine reads and writes in the database."""
