"""GraphQL side of outgoing webhooks: types, inputs, loaders and mutations."""
