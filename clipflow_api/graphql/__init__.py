"""The GraphQL API: one sub-package per domain (types, inputs, queries, mutations, loaders)."""
