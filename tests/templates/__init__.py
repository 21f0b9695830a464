"""Templates: the service rules (tests/templates/test_service.py)."""
