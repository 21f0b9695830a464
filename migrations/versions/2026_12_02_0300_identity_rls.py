"""identity RLS: per-user policies on the global tables, a worker role, private media

0002 left the identity and billing tables without Row-Level Security, so the app role
read every user's row, password hash, sessions and linked accounts. Here:

- ``users``: a user reads and writes their own row and reads the members of the
  workspace the transaction acts in. ``password_hash`` is not readable by the app or
  worker role at all (column privileges): sign-in gets the hash of exactly one address
  through ``clipflow_user_for_sign_in``. A later migration that adds a column to
  ``users`` must grant SELECT on it to both roles.
- ``sessions``, ``accounts``, ``verifications`` (``<purpose>:<user id>:...`` identifiers):
  their own user's only. ``subscriptions``: their own user's, plus (read only) the one
  paying for the current workspace, so members see their workspace's plan. ``usage_logs``:
  those of a visible subscription. ``feature_flags``: readable by all, written only in a
  transaction that set ``app.platform_staff`` (the staff-only GraphQL mutations).
- Before a user is known, sign-in, session, verification-token and OAuth lookups go
  through narrow SECURITY DEFINER functions (the pattern of 0005), executable by the
  app role only.
- ``clipflow_worker``: a second login role (``clipflow.worker_role``, no BYPASSRLS, owns
  nothing) with the app role's table rights; only it may run the cross-tenant job
  sweeper ``clipflow_due_jobs``.
- ``media_folders`` / ``user_media``: an unshared folder is seen only by its creator and
  the workspace's owners and admins; a file in a folder is seen by whoever sees that
  folder (and by its uploader). Restrictive policies, on top of the tenant one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IDENTITY_TABLES = ("users", "sessions", "accounts", "verifications", "subscriptions", "usage_logs", "feature_flags")

POLICIES: tuple[tuple[str, str, str], ...] = (
    # (table, name, the rest of CREATE POLICY)
    ("users", "own_user", "USING (id = app_user_id()) WITH CHECK (id = app_user_id())"),
    (
        "users",
        "fellow_members",
        "FOR SELECT USING (EXISTS (SELECT 1 FROM team_members m "
        "WHERE m.user_id = users.id AND m.workspace_id = app_workspace_id()))",
    ),
    ("sessions", "own_sessions", "USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id())"),
    ("accounts", "own_accounts", "USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id())"),
    (
        "verifications",
        "own_verifications",
        "USING (split_part(identifier, ':', 2) = app_user_id()::text) "
        "WITH CHECK (split_part(identifier, ':', 2) = app_user_id()::text)",
    ),
    ("subscriptions", "own_subscriptions", "USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id())"),
    (
        "subscriptions",
        "workspace_plan",
        "FOR SELECT USING (user_id = (SELECT w.owner_id FROM workspaces w WHERE w.id = app_workspace_id()))",
    ),
    (
        "usage_logs",
        "subscription_usage",
        "USING (EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = usage_logs.subscription_id)) "
        "WITH CHECK (EXISTS (SELECT 1 FROM subscriptions s "
        "WHERE s.id = usage_logs.subscription_id AND s.user_id = app_user_id()))",
    ),
    ("feature_flags", "read_flags", "FOR SELECT USING (true)"),
    ("feature_flags", "staff_writes_flags", "USING (app_platform_staff()) WITH CHECK (app_platform_staff())"),
    (
        "media_folders",
        "unshared_folders",
        "AS RESTRICTIVE USING (is_shared OR user_id = app_user_id() OR app_is_workspace_admin()) "
        "WITH CHECK (is_shared OR user_id = app_user_id() OR app_is_workspace_admin())",
    ),
    (
        "user_media",
        "media_in_visible_folders",
        "AS RESTRICTIVE USING (user_id = app_user_id() OR folder_id IS NULL "
        "OR EXISTS (SELECT 1 FROM media_folders f WHERE f.id = user_media.folder_id))",
    ),
)

HELPERS = {
    "app_platform_staff()": """
        CREATE FUNCTION app_platform_staff() RETURNS boolean LANGUAGE sql STABLE AS
        $$ SELECT coalesce(current_setting('app.platform_staff', true), '') = 'on' $$
    """,
    # Runs as the caller: team_members' own policy shows it the current workspace only.
    "app_is_workspace_admin()": """
        CREATE FUNCTION app_is_workspace_admin() RETURNS boolean LANGUAGE sql STABLE AS $$
            SELECT EXISTS (SELECT 1 FROM team_members m
                           WHERE m.workspace_id = app_workspace_id() AND m.user_id = app_user_id()
                             AND m.status = 'active' AND m.role IN ('owner', 'admin'))
        $$
    """,
}

LOOKUPS = {
    "clipflow_user_for_sign_in(text)": """
        CREATE FUNCTION clipflow_user_for_sign_in(address text)
        RETURNS TABLE (id uuid, password_hash varchar)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT u.id, u.password_hash FROM users u WHERE u.email = address AND u.deleted_at IS NULL
        $$
    """,
    "clipflow_email_taken(text)": """
        CREATE FUNCTION clipflow_email_taken(address text) RETURNS boolean
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT EXISTS (SELECT 1 FROM users u WHERE u.email = address)
        $$
    """,
    "clipflow_user_by_provider(text, text)": """
        CREATE FUNCTION clipflow_user_by_provider(provider text, provider_user_id text) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT u.id FROM users u
            WHERE u.deleted_at IS NULL
              AND ((provider = 'google' AND u.google_id = provider_user_id)
                OR (provider = 'github' AND u.github_id = provider_user_id))
        $$
    """,
    "clipflow_account_by_provider(text, text)": """
        CREATE FUNCTION clipflow_account_by_provider(provider text, provider_account_id text)
        RETURNS TABLE (id uuid, user_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT a.id, a.user_id FROM accounts a WHERE a.provider_id = provider AND a.account_id = provider_account_id
        $$
    """,
    "clipflow_session_by_token(text)": """
        CREATE FUNCTION clipflow_session_by_token(hash text)
        RETURNS TABLE (id uuid, user_id uuid, expires_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT s.id, s.user_id, s.expires_at FROM sessions s WHERE s.token_hash = hash
        $$
    """,
    "clipflow_verification_by_token(text)": """
        CREATE FUNCTION clipflow_verification_by_token(hash text)
        RETURNS TABLE (id uuid, identifier text, expires_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT v.id, v.identifier, v.expires_at FROM verifications v WHERE v.value = hash
        $$
    """,
}

SWEEPER = "clipflow_due_jobs(integer, integer, integer)"

# Table rights of the app role (0002), given to the worker role too; users' SELECT becomes
# per column for both, every column but password_hash.
_ROLES_UP = """
DO $$
DECLARE
    app text := current_setting('clipflow.app_role');
    w text := current_setting('clipflow.worker_role');
    p text := current_setting('clipflow.worker_password');
    cols text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = w) THEN
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', w, p);
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), w);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', w);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', w);
    EXECUTE format('REVOKE ALL ON alembic_version FROM %I', w);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', w);
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'public.users'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'password_hash';
    EXECUTE format('REVOKE SELECT ON users FROM %I, %I', app, w);
    EXECUTE format('GRANT SELECT (%s) ON users TO %I, %I', cols, app, w);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION clipflow_due_jobs(integer, integer, integer) FROM %I', app);
    EXECUTE format('GRANT EXECUTE ON FUNCTION clipflow_due_jobs(integer, integer, integer) TO %I', w);
END $$;
"""

_ROLES_DOWN = """
DO $$
DECLARE
    app text := current_setting('clipflow.app_role');
    w text := current_setting('clipflow.worker_role');
    cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'public.users'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'password_hash';
    EXECUTE format('REVOKE SELECT (%s) ON users FROM %I', cols, app);
    EXECUTE format('GRANT SELECT ON users TO %I', app);
    EXECUTE format('GRANT EXECUTE ON FUNCTION clipflow_due_jobs(integer, integer, integer) TO %I', app);
    -- the role is cluster-wide and may serve other databases: keep it, drop this database's grants
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = w) THEN
        EXECUTE format('REVOKE ALL ON FUNCTION clipflow_due_jobs(integer, integer, integer) FROM %I', w);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM %I', w);
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', w);
        EXECUTE format('REVOKE USAGE ON SCHEMA public FROM %I', w);
        EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM %I', current_database(), w);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.execute(f"REVOKE ALL ON FUNCTION {SWEEPER} FROM PUBLIC")
    op.execute(_ROLES_UP)
    for ddl in HELPERS.values():
        op.execute(ddl)
    for signature, ddl in LOOKUPS.items():
        op.execute(ddl)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(
            f"DO $$ BEGIN EXECUTE format('GRANT EXECUTE ON FUNCTION {signature} TO %I', "
            "current_setting('clipflow.app_role')); END $$"
        )
    for table in IDENTITY_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for table, name, rest in POLICIES:
        op.execute(f"CREATE POLICY {name} ON {table} {rest}")


def downgrade() -> None:
    for table, name, _rest in reversed(POLICIES):
        op.execute(f"DROP POLICY {name} ON {table}")
    for table in reversed(IDENTITY_TABLES):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for signature in reversed(list(LOOKUPS)):
        op.execute(f"DROP FUNCTION {signature}")
    for signature in reversed(list(HELPERS)):
        op.execute(f"DROP FUNCTION {signature}")
    op.execute(_ROLES_DOWN)
