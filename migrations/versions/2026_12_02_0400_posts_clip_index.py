"""posts.clip_id index: a clip's posts without reading every post of the workspace

``Clip.posts`` (``PostsByClipIdLoader``) selects by ``clip_id``; without an index the
planner scanned the workspace's posts and discarded most of them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("idx_posts_clip", "posts", ["clip_id"])


def downgrade() -> None:
    op.drop_index("idx_posts_clip", table_name="posts")
