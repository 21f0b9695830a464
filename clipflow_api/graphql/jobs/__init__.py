"""GraphQL side of background jobs: the Job type, its filter and loaders."""
