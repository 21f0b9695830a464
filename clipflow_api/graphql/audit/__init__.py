"""GraphQL side of the audit trail: the AuditLog type and its loaders."""
