"""arq entry points. Each takes ids, reloads state, and is safe to run more than once."""
