"""Constraints that matter: unique slugs, the generated duration, cascades, idempotent clip spans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.models import BrandKit, Caption, Clip, Job, Post, SocialAccount, UsageLog, Video
from tests.fixtures import builders


async def test_workspace_slug_is_unique(db: AsyncSession) -> None:
    await builders.workspace(db, slug="acme")
    with pytest.raises(IntegrityError, match="workspaces_slug"):
        async with db.begin_nested():
            await builders.workspace(db, slug="acme")


async def test_user_email_is_unique(db: AsyncSession) -> None:
    await builders.user(db, email="a@example.com")
    with pytest.raises(IntegrityError, match="users_email"):
        async with db.begin_nested():
            await builders.user(db, email="a@example.com")


async def test_clip_duration_is_generated_from_its_span(db: AsyncSession) -> None:
    v = await builders.video(db, await builders.workspace(db))
    c = await builders.clip(db, v, start="12.250", end="47.000")
    await db.refresh(c)
    assert c.duration_seconds == Decimal("34.750")
    c.end_time = Decimal("20.000")
    await db.flush()
    await db.refresh(c)
    assert c.duration_seconds == Decimal("7.750")
    with pytest.raises(Exception, match="can only be updated to DEFAULT"):
        async with db.begin_nested():
            await db.execute(text("UPDATE clips SET duration_seconds = 1 WHERE id = :id"), {"id": c.id})


async def test_a_video_span_makes_one_clip(db: AsyncSession) -> None:
    v = await builders.video(db, await builders.workspace(db))
    first = await builders.clip(db, v, start="1.000", end="20.000")
    with pytest.raises(IntegrityError, match="uq_clips_video_span"):
        async with db.begin_nested():
            await builders.clip(db, v, start="1.000", end="20.000")
    # a soft-deleted clip frees its span
    first.deleted_at = dt.datetime.now(dt.UTC)
    await db.flush()
    await builders.clip(db, v, start="1.000", end="20.000")


async def test_deleting_a_workspace_cascades_to_its_media(db: AsyncSession) -> None:
    ws = await builders.workspace(db)
    v = await builders.video(db, ws)
    c = await builders.clip(db, v)
    db.add(Caption(workspace_id=ws.id, clip_id=c.id, style="hormozi", words=[{"word": "hi", "start": 0, "end": 0.2}]))
    await builders.job(db, ws, video_id=v.id)
    await db.flush()
    await db.execute(text("DELETE FROM workspaces WHERE id = :id"), {"id": ws.id})
    for model in (Video, Clip, Caption, Job):
        assert (await db.execute(select(model).where(model.workspace_id == ws.id))).all() == []


async def test_deleting_a_clip_keeps_its_posts(db: AsyncSession) -> None:
    ws = await builders.workspace(db)
    c = await builders.clip(db, await builders.video(db, ws))
    account = SocialAccount(workspace_id=ws.id, platform="tiktok", platform_user_id="42", access_token="enc")
    db.add(account)
    await db.flush()
    post = Post(workspace_id=ws.id, social_account_id=account.id, clip_id=c.id, media_urls=["k"], media_type="video",
                created_by=ws.owner_id)
    db.add(post)
    await db.flush()
    await db.execute(text("DELETE FROM clips WHERE id = :id"), {"id": c.id})
    await db.refresh(post)
    assert post.clip_id is None


async def test_one_usage_row_per_subscription_and_day(db: AsyncSession) -> None:
    sub = await builders.subscribe(db, await builders.user(db), "pro")
    db.add(UsageLog(subscription_id=sub.id, date=dt.date(2026, 11, 23), videos_processed=1))
    await db.flush()
    with pytest.raises(IntegrityError, match="uq_usage_logs_subscription_id"):
        async with db.begin_nested():
            db.add(UsageLog(subscription_id=sub.id, date=dt.date(2026, 11, 23)))
            await db.flush()


async def test_one_default_brand_kit_per_workspace(db: AsyncSession) -> None:
    ws = await builders.workspace(db)
    db.add(BrandKit(workspace_id=ws.id, is_default=True))
    db.add(BrandKit(workspace_id=ws.id, name="Alt"))
    await db.flush()
    with pytest.raises(IntegrityError, match="uq_brand_kits_default"):
        async with db.begin_nested():
            db.add(BrandKit(workspace_id=ws.id, name="Second default", is_default=True))
            await db.flush()


async def test_defaults_from_the_designs(db: AsyncSession) -> None:
    u = await builders.user(db)
    v = await builders.video(db, await builders.workspace(db, u))
    await db.refresh(u)
    await db.refresh(v)
    assert (u.timezone, u.language, u.theme, u.email_verified) == ("UTC", "en", "dark", False)
    assert (v.status, v.processing_progress) == ("pending", 0)
