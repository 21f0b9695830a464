"""tenant isolation: the app role, grants and Row-Level Security

Every tenant table gets RLS enabled and forced, with one policy keyed on the
per-transaction setting ``app.workspace_id`` (set with ``set_config(.., true)`` at the
start of each transaction). A missing setting reads as NULL and matches no row.

The application connects as a separate role (``clipflow.app_role``, passed in by env.py)
that owns nothing and has no BYPASSRLS, so the policies always apply to it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of clipflow_api.models.TENANT_TABLES at this revision.
TENANT_TABLES = (
    "api_keys", "team_members", "invitations", "social_accounts", "videos", "clips", "captions", "posts",
    "post_metrics", "comments", "account_analytics", "assets", "templates", "brand_kits", "jobs", "webhooks",
    "webhook_logs", "audit_logs", "projects", "project_collaborators", "timeline_elements",
    "ai_text_generations", "ai_image_generations", "user_media", "media_folders", "project_exports",
    "project_analytics",
)


def upgrade() -> None:
    for name, setting in (("app_workspace_id", "app.workspace_id"), ("app_user_id", "app.user_id")):
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS uuid LANGUAGE sql STABLE AS "
            f"$$ SELECT NULLIF(current_setting('{setting}', true), '')::uuid $$"
        )
    op.execute(
        """
        DO $$
        DECLARE
            r text := current_setting('clipflow.app_role');
            p text := current_setting('clipflow.app_password');
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
                EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', r, p);
            END IF;
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);
            EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', r);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', r);
            EXECUTE format('REVOKE ALL ON alembic_version FROM %I', r);
            EXECUTE format('GRANT EXECUTE ON FUNCTION app_workspace_id(), app_user_id() TO %I', r);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', r);
        END $$;
        """
    )
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (workspace_id = app_workspace_id()) WITH CHECK (workspace_id = app_workspace_id())"
        )
    # Global rows (NULL workspace) of the shared catalogues are readable by every workspace;
    # public templates too. Writes still need the caller's own workspace.
    op.execute("CREATE POLICY shared_read ON assets FOR SELECT USING (workspace_id IS NULL)")
    op.execute("CREATE POLICY shared_read ON templates FOR SELECT USING (workspace_id IS NULL OR is_public)")
    # A user sees their own memberships in every workspace (to list and switch workspaces).
    op.execute("CREATE POLICY own_memberships ON team_members FOR SELECT USING (user_id = app_user_id())")
    # Personal API keys (no workspace) belong to their user.
    op.execute(
        "CREATE POLICY own_keys ON api_keys USING (workspace_id IS NULL AND user_id = app_user_id()) "
        "WITH CHECK (workspace_id IS NULL AND user_id = app_user_id())"
    )
    # Audit entries of a user outside any workspace (sign-in, sign-up) are theirs to write.
    op.execute(
        "CREATE POLICY own_audit ON audit_logs USING (workspace_id IS NULL AND user_id = app_user_id()) "
        "WITH CHECK (workspace_id IS NULL AND user_id = app_user_id())"
    )
    # The workspace row itself: visible to the current workspace, its owner and its members;
    # created by its owner; changed only from inside it.
    op.execute("ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE workspaces FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        CREATE POLICY workspace_read ON workspaces FOR SELECT USING (
            id = app_workspace_id() OR owner_id = app_user_id()
            OR EXISTS (SELECT 1 FROM team_members m
                       WHERE m.workspace_id = workspaces.id AND m.user_id = app_user_id() AND m.status = 'active')
        )
        """
    )
    op.execute("CREATE POLICY workspace_create ON workspaces FOR INSERT WITH CHECK (owner_id = app_user_id())")
    op.execute(
        "CREATE POLICY workspace_update ON workspaces FOR UPDATE "
        "USING (id = app_workspace_id()) WITH CHECK (id = app_workspace_id())"
    )
    op.execute("CREATE POLICY workspace_delete ON workspaces FOR DELETE USING (id = app_workspace_id())")


def downgrade() -> None:
    for name in ("workspace_read", "workspace_create", "workspace_update", "workspace_delete"):
        op.execute(f"DROP POLICY {name} ON workspaces")
    op.execute("ALTER TABLE workspaces NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE workspaces DISABLE ROW LEVEL SECURITY")
    op.execute("DROP POLICY own_audit ON audit_logs")
    op.execute("DROP POLICY own_keys ON api_keys")
    op.execute("DROP POLICY own_memberships ON team_members")
    op.execute("DROP POLICY shared_read ON templates")
    op.execute("DROP POLICY shared_read ON assets")
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    # The role is cluster-wide and may serve other databases: keep it, drop this database's grants.
    op.execute(
        """
        DO $$
        DECLARE r text := current_setting('clipflow.app_role');
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
                EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM %I', r);
                EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', r);
                EXECUTE format('REVOKE USAGE ON SCHEMA public FROM %I', r);
                EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM %I', current_database(), r);
            END IF;
        END $$;
        """
    )
    op.execute("DROP FUNCTION app_user_id()")
    op.execute("DROP FUNCTION app_workspace_id()")
