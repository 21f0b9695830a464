"""publishing: post state for exactly-once publishing, account grants, the outbox, the due-posts window

- ``posts``: ``group_id`` (posts made together), ``next_attempt_at`` (Retry-After),
  ``publish_started_at`` (committed right before the creating call: a publish that finds it
  set reconciles with the platform instead of retrying blindly), ``publish_ref`` (the
  platform's handle of an upload in flight), ``publish_attempts``, ``upload_progress``,
  ``approval_comment``.
- ``social_accounts``: ``scopes`` and ``platform_data`` (channel, Instagram user id, creator
  limits; never a secret). Statuses become active / reconnect_required / disconnected.
- ``outbox_events``: events written in the transaction that caused them (tenant table, RLS).
- ``clipflow_due_posts(horizon_s, stale_s, lim)``: the publish sweeper's window across
  tenants (SECURITY DEFINER, executable by the worker role only): scheduled posts due within
  ``horizon_s`` seconds (respecting ``next_attempt_at``), posts left ``publishing`` without
  a change for ``stale_s`` seconds (their worker died), and ``unconfirmed`` posts due for
  reconciliation.
- ``clipflow_due_token_refreshes(within_s, lim)``: the token refresh cron's window (same
  rights): active accounts whose access token expires within ``within_s`` seconds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE_POSTS = "clipflow_due_posts(integer, integer, integer)"
DUE_TOKEN_REFRESHES = "clipflow_due_token_refreshes(integer, integer)"


def upgrade() -> None:
    op.add_column("posts", sa.Column("group_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column("posts", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("posts", sa.Column("publish_started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("posts", sa.Column("publish_ref", sa.Text(), nullable=True))
    op.add_column("posts", sa.Column("publish_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("posts", sa.Column("upload_progress", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("posts", sa.Column("approval_comment", sa.Text(), nullable=True))
    op.create_index("idx_posts_group", "posts", ["group_id"], postgresql_where=sa.text("group_id IS NOT NULL"))

    op.add_column("social_accounts", sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=True))
    op.add_column(
        "social_accounts",
        sa.Column("platform_data", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )
    op.execute("UPDATE social_accounts SET status = 'reconnect_required' WHERE status IN ('expired', 'revoked', 'error')")

    op.create_table(
        "outbox_events",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("workspace_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_outbox_events_workspace_id_workspaces"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    op.create_index("idx_outbox_events_undelivered", "outbox_events", ["created_at"], postgresql_where=sa.text("delivered_at IS NULL"))
    op.create_index("idx_outbox_events_workspace", "outbox_events", ["workspace_id", "created_at"])
    op.execute("ALTER TABLE outbox_events ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE outbox_events FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON outbox_events "
        "USING (workspace_id = app_workspace_id()) WITH CHECK (workspace_id = app_workspace_id())"
    )

    op.execute(
        f"""
        CREATE FUNCTION {DUE_POSTS.replace("integer, integer, integer", "horizon_s integer, stale_s integer, lim integer")}
        RETURNS TABLE (id uuid, workspace_id uuid, status varchar, due_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT p.id, p.workspace_id, p.status, greatest(p.scheduled_at, p.next_attempt_at) FROM posts p
            WHERE p.deleted_at IS NULL AND (
                   (p.status = 'scheduled'
                    AND greatest(p.scheduled_at, p.next_attempt_at) <= now() + make_interval(secs => horizon_s))
                OR (p.status = 'publishing' AND p.updated_at < now() - make_interval(secs => stale_s))
                OR (p.status = 'unconfirmed'
                    AND coalesce(p.next_attempt_at, p.updated_at) <= now() + make_interval(secs => horizon_s)))
            ORDER BY 4 NULLS FIRST
            LIMIT lim
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION clipflow_due_token_refreshes(within_s integer, lim integer)
        RETURNS TABLE (id uuid, workspace_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT a.id, a.workspace_id FROM social_accounts a
            WHERE a.status = 'active' AND a.token_expires_at IS NOT NULL
              AND a.token_expires_at <= now() + make_interval(secs => within_s)
            ORDER BY a.token_expires_at
            LIMIT lim
        $$
        """
    )
    op.create_index(
        "idx_social_accounts_token_expiry", "social_accounts", ["token_expires_at"],
        postgresql_where=sa.text("status = 'active'"),
    )
    for function in (DUE_POSTS, DUE_TOKEN_REFRESHES):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(
            f"DO $$ BEGIN EXECUTE format('GRANT EXECUTE ON FUNCTION {function} TO %I', "
            "current_setting('clipflow.worker_role')); END $$"
        )


def downgrade() -> None:
    op.drop_index("idx_social_accounts_token_expiry", table_name="social_accounts")
    op.execute(f"DROP FUNCTION {DUE_TOKEN_REFRESHES}")
    op.execute(f"DROP FUNCTION {DUE_POSTS}")
    op.drop_index("idx_outbox_events_workspace", table_name="outbox_events")
    op.drop_index("idx_outbox_events_undelivered", table_name="outbox_events")
    op.drop_table("outbox_events")
    op.execute("UPDATE social_accounts SET status = 'revoked' WHERE status IN ('reconnect_required', 'disconnected')")
    op.drop_column("social_accounts", "platform_data")
    op.drop_column("social_accounts", "scopes")
    op.drop_index("idx_posts_group", table_name="posts")
    for column in ("approval_comment", "upload_progress", "publish_attempts", "publish_ref", "publish_started_at",
                   "next_attempt_at", "group_id"):
        op.drop_column("posts", column)
