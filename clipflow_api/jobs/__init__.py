"""Background jobs: the ``jobs`` row is the source of truth, arq only carries its id."""
