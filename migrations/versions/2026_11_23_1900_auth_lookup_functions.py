"""auth lookups before a tenant is known: API keys by hash, invitations by token hash

A request carrying an API key, or a user accepting an emailed invitation, does not yet
know its workspace, but ``api_keys`` and ``invitations`` sit behind Row-Level Security.
These SECURITY DEFINER functions (owned by the migration role, like ``clipflow_due_jobs``;
the tables FORCE RLS, so that role must be a superuser or have BYPASSRLS, as 0004 assumes
too) find exactly one row by the SHA-256 of a secret the caller holds,
and return only the columns authentication needs. The caller then switches its tenant to
the row's workspace for everything else. EXECUTE goes to the app role only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = {
    "clipflow_api_key_by_hash(text)": """
        CREATE FUNCTION clipflow_api_key_by_hash(hash text)
        RETURNS TABLE (id uuid, user_id uuid, workspace_id uuid, scopes text[], rate_limit integer,
                       expires_at timestamptz, revoked_at timestamptz, last_used_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT k.id, k.user_id, k.workspace_id, k.scopes, k.rate_limit, k.expires_at, k.revoked_at, k.last_used_at
            FROM api_keys k
            WHERE k.key_hash = hash
        $$
    """,
    "clipflow_invitation_by_token(text)": """
        CREATE FUNCTION clipflow_invitation_by_token(hash text)
        RETURNS TABLE (id uuid, workspace_id uuid, email varchar, role varchar, invited_by uuid,
                       expires_at timestamptz, accepted_at timestamptz, created_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT i.id, i.workspace_id, i.email, i.role, i.invited_by, i.expires_at, i.accepted_at, i.created_at
            FROM invitations i
            WHERE i.token = hash
        $$
    """,
}


def upgrade() -> None:
    for signature, ddl in FUNCTIONS.items():
        op.execute(ddl)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(
            f"DO $$ BEGIN EXECUTE format('GRANT EXECUTE ON FUNCTION {signature} TO %I', "
            "current_setting('clipflow.app_role')); END $$"
        )


def downgrade() -> None:
    for signature in reversed(list(FUNCTIONS)):
        op.execute(f"DROP FUNCTION {signature}")
