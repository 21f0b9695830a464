"""GraphQL side of feature flags: type, inputs, loaders, the list and the staff mutations."""
