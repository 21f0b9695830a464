"""arq workers: thin task entry points (tasks/) over pure media code (pipeline/)."""
