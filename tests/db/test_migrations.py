"""The schema as migrated: every table of both designs, RLS on tenant tables, no drift, reversible."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from clipflow_api.config import get_settings
from clipflow_api.dbadmin import _admin_url, alembic_config
from clipflow_api.models import TENANT_TABLES

EXPECTED_TABLES = {
    "users", "sessions", "accounts", "verifications", "api_keys", "subscription_plans", "subscriptions",
    "usage_logs", "workspaces", "team_members", "invitations", "social_accounts", "videos", "clips", "captions",
    "posts", "post_metrics", "comments", "assets", "templates", "template_categories", "brand_kits", "jobs",
    "webhooks", "webhook_logs", "audit_logs", "account_analytics", "social_formats", "projects",
    "project_collaborators", "timeline_elements", "ai_text_generations", "ai_image_generations", "user_media",
    "media_folders", "project_exports", "project_analytics", "feature_flags",
    # ours: events written with the change that caused them (issue 9), delivered by the webhooks worker
    "outbox_events",
}

# Global tables whose policies follow the user (migration 0006), not the workspace.
IDENTITY_TABLES = {"users", "sessions", "accounts", "verifications", "subscriptions", "usage_logs", "feature_flags"}


async def _tables(conn: AsyncConnection) -> set[str]:
    rows = await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    return {r[0] for r in rows} - {"alembic_version"}


async def test_head_has_every_table_of_both_designs(connection: AsyncConnection) -> None:
    assert await _tables(connection) == EXPECTED_TABLES


async def test_rls_is_enabled_and_forced_on_every_tenant_table(connection: AsyncConnection) -> None:
    rows = await connection.execute(
        text("SELECT relname FROM pg_class WHERE relkind = 'r' AND relrowsecurity AND relforcerowsecurity")
    )
    assert {r[0] for r in rows} == set(TENANT_TABLES) | {"workspaces"} | IDENTITY_TABLES
    # and every one of them carries a policy
    rows = await connection.execute(text("SELECT DISTINCT tablename FROM pg_policies WHERE schemaname = 'public'"))
    assert {r[0] for r in rows} == set(TENANT_TABLES) | {"workspaces"} | IDENTITY_TABLES


async def test_app_role_cannot_bypass_rls(connection: AsyncConnection) -> None:
    role = get_settings().db_app_role
    row = (await connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}
    )).one()
    assert tuple(row) == (False, False)
    owned = (await connection.execute(
        text("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = :r"), {"r": role}
    )).scalar()
    assert owned == 0


async def test_indexes_from_the_designs_exist(connection: AsyncConnection) -> None:
    rows = await connection.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"))
    defs = {r[0]: r[1] for r in rows}
    assert "WHERE ((status)::text = 'scheduled'::text)" in defs["idx_posts_scheduled"]
    assert "WHERE (NOT is_read)" in defs["idx_comments_unread"]
    assert "(virality_score DESC)" in defs["idx_clips_virality"]
    assert "(status, priority DESC, created_at)" in defs["idx_jobs_status"]
    for name in ("idx_users_email", "idx_sessions_token", "idx_usage_logs_date", "template_format_category_idx",
                 "timeline_element_sync_idx", "project_user_idx", "analytics_date_idx", "idx_audit_logs_action",
                 "idx_account_analytics_account_date", "idx_webhook_logs_webhook", "user_media_folder_idx"):
        assert name in defs, name


async def test_generated_clip_duration_column(connection: AsyncConnection) -> None:
    gen = (await connection.execute(text(
        "SELECT is_generated, generation_expression FROM information_schema.columns "
        "WHERE table_name = 'clips' AND column_name = 'duration_seconds'"
    ))).one()
    assert gen[0] == "ALWAYS"
    assert gen[1] == "(end_time - start_time)"


async def test_seeded_plans_and_formats(connection: AsyncConnection) -> None:
    plans = (await connection.execute(text(
        "SELECT name, price_monthly::text, max_video_duration, api_requests_daily FROM subscription_plans ORDER BY sort_order"
    ))).all()
    assert [tuple(p) for p in plans] == [
        ("free", "0.00", 1800, 100),
        ("starter", "19.00", 3600, 1000),
        ("pro", "49.00", 7200, 10000),
        ("business", "149.00", 14400, 50000),
        ("agency", "399.00", 14400, None),
    ]
    formats = {r[0]: tuple(r[1:]) for r in await connection.execute(text(
        "SELECT slug, platform, width, height, aspect_ratio, max_duration FROM social_formats"
    ))}
    assert formats["instagram-reel"] == ("instagram", 1080, 1920, "9:16", 180)
    assert formats["youtube-video"] == ("youtube", 1920, 1080, "16:9", 43200)
    assert formats["x-video"] == ("twitter", 1920, 1080, "16:9", 140)
    assert {f[0] for f in formats.values()} == {
        "instagram", "tiktok", "youtube", "facebook", "linkedin", "twitter", "pinterest", "threads"
    }
    zones = (await connection.execute(text("SELECT safe_zones FROM social_formats WHERE slug = 'tiktok-video'"))).scalar()
    assert zones[0] == {"name": "title_safe", "x": 60, "y": 150, "width": 880, "height": 1290}


@pytest.fixture
def scratch_database(migrated_database: str):
    """A second, empty database for the round trip, so the shared one stays at head."""
    settings = get_settings()
    parts = urlsplit(settings.database_url)
    url = urlunsplit(parts._replace(path=parts.path + "_scratch"))
    admin, name = _admin_url(settings.async_database_url.replace(parts.path, parts.path + "_scratch"))

    async def run(sql: str) -> None:
        engine = create_async_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    old = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        yield url
    finally:
        os.environ["DATABASE_URL"] = old
        get_settings.cache_clear()
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_upgrade_check_downgrade_roundtrip(scratch_database: str) -> None:
    cfg = alembic_config()
    cfg.attributes["skip_logging"] = True

    async def tables() -> set[str]:
        engine = create_async_engine(get_settings().async_database_url, poolclass=NullPool)
        async with engine.connect() as conn:
            found = await _tables(conn)
        await engine.dispose()
        return found

    command.upgrade(cfg, "head")
    assert asyncio.run(tables()) == EXPECTED_TABLES
    command.check(cfg)  # raises when the models and the migrations disagree
    command.downgrade(cfg, "base")
    assert asyncio.run(tables()) == set()
    command.upgrade(cfg, "head")
    assert asyncio.run(tables()) == EXPECTED_TABLES
