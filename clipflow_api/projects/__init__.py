"""Studio projects: the rules (service.py) and the SQL (repository.py) of projects, canvases and timelines."""
