"""clipflow_due_jobs(): the job sweeper's one window across tenants

The sweeper must find work in every workspace, but the app role sees one workspace at a
time. This SECURITY DEFINER function (owned by the migration role, which bypasses RLS)
returns only the ids, workspace ids, types, statuses and attempt counts of jobs that are
due: pending longer than ``pending_after`` seconds (never handed to arq, or arq lost them)
or processing without a progress update for ``processing_after`` seconds (the worker
died). The sweeper re-enqueues those with attempts left and fails the others.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION clipflow_due_jobs(pending_after integer, processing_after integer, lim integer)
        RETURNS TABLE (id uuid, workspace_id uuid, type varchar, status varchar, attempts integer, max_attempts integer)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT j.id, j.workspace_id, j.type, j.status, j.attempts, j.max_attempts FROM jobs j
            WHERE (j.status = 'pending' AND j.updated_at < now() - make_interval(secs => pending_after))
               OR (j.status = 'processing' AND j.updated_at < now() - make_interval(secs => processing_after))
            ORDER BY j.priority DESC, j.created_at
            LIMIT lim
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION clipflow_due_jobs(integer, integer, integer) FROM PUBLIC")
    op.execute(
        "DO $$ BEGIN EXECUTE format('GRANT EXECUTE ON FUNCTION clipflow_due_jobs(integer, integer, integer) TO %I', "
        "current_setting('clipflow.app_role')); END $$"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION clipflow_due_jobs(integer, integer, integer)")
