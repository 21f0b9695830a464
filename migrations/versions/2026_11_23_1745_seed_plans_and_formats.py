"""seed: the five subscription plans and the social formats catalogue

Both are ordinary rows: edit them in the database (or a later migration) as prices and
platform specs change. Sources for the format specs: each platform's creator help pages
as of 2026 (dimensions, duration and size limits), safe zones from their UI overlays.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:45:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GB = 1024**3
MB = 1024**2

plans = sa.table(
    "subscription_plans",
    sa.column("name", sa.String), sa.column("display_name", sa.String), sa.column("description", sa.Text),
    sa.column("price_monthly", sa.Numeric), sa.column("price_yearly", sa.Numeric),
    sa.column("videos_per_month", sa.Integer), sa.column("clips_per_video", sa.Integer),
    sa.column("max_video_duration", sa.Integer), sa.column("export_quality", sa.String),
    sa.column("social_accounts", sa.Integer), sa.column("team_members", sa.Integer),
    sa.column("api_requests_daily", sa.Integer), sa.column("storage_gb", sa.Integer),
    sa.column("features", JSONB), sa.column("sort_order", sa.Integer),
)

formats = sa.table(
    "social_formats",
    sa.column("name", sa.Text), sa.column("slug", sa.Text), sa.column("platform", sa.Text),
    sa.column("width", sa.Integer), sa.column("height", sa.Integer), sa.column("aspect_ratio", sa.Text),
    sa.column("max_duration", sa.Integer), sa.column("recommended_formats", JSONB),
    sa.column("max_file_size", sa.BigInteger), sa.column("supported_features", JSONB),
    sa.column("safe_zones", JSONB), sa.column("sort_order", sa.Integer),
)


def _features(**on: bool) -> dict:
    names = ("brand_kit", "custom_caption_styles", "remove_watermark", "scheduling", "approval_workflow",
             "api_access", "webhooks", "analytics", "white_label", "priority_processing", "ai_refinement")
    return {n: bool(on.get(n, False)) for n in names}


PLANS = [
    # name, display, description, monthly, yearly, videos/mo, clips/video, max duration s, quality,
    # social accounts, members, api/day, storage GB, features (+ max_upload_mb), sort
    ("free", "Free", "Try ClipFlow on a few videos a month.", 0, 0, 3, 5, 30 * 60, "720p", 1, 1, 100, 2,
     {**_features(), "max_upload_mb": 500}),
    ("starter", "Starter", "For solo creators posting every week.", 19, 190, 15, 10, 60 * 60, "1080p", 3, 1, 1000, 25,
     {**_features(brand_kit=True, custom_caption_styles=True, remove_watermark=True, scheduling=True), "max_upload_mb": 2048}),
    ("pro", "Pro", "For creators and small teams publishing daily.", 49, 490, 50, None, 2 * 3600, "1080p", 10, 3, 10000, 100,
     {**_features(brand_kit=True, custom_caption_styles=True, remove_watermark=True, scheduling=True,
                  api_access=True, webhooks=True, analytics=True, ai_refinement=True), "max_upload_mb": 5120}),
    ("business", "Business", "For brands with approval workflows.", 149, 1490, 200, None, 4 * 3600, "4k", 25, 10, 50000, 500,
     {**_features(brand_kit=True, custom_caption_styles=True, remove_watermark=True, scheduling=True,
                  approval_workflow=True, api_access=True, webhooks=True, analytics=True, priority_processing=True,
                  ai_refinement=True), "max_upload_mb": 10240}),
    ("agency", "Agency", "For agencies running many client workspaces.", 399, 3990, 1000, None, 4 * 3600, "4k", 100, 50, None, 2000,
     {**_features(brand_kit=True, custom_caption_styles=True, remove_watermark=True, scheduling=True,
                  approval_workflow=True, api_access=True, webhooks=True, analytics=True, white_label=True,
                  priority_processing=True, ai_refinement=True), "max_upload_mb": 20480}),
]


def _safe_zones(w: int, h: int, top: int, bottom: int, left: int, right: int) -> list[dict]:
    """Title-safe (inside the platform's UI overlays) and action-safe (5% in) rectangles."""
    return [
        {"name": "title_safe", "x": left, "y": top, "width": w - left - right, "height": h - top - bottom},
        {"name": "action_safe", "x": round(w * 0.05), "y": round(h * 0.05), "width": round(w * 0.9), "height": round(h * 0.9)},
    ]


def _supports(max_layers: int = 20, stickers: bool = True, video: bool = True) -> dict:
    return {"supportsVideo": video, "supportsAudio": video, "supportsText": True, "supportsStickers": stickers,
            "supportsFilters": True, "maxLayers": max_layers, "supportsTransitions": video}


# name, slug, platform, w, h, ratio, max duration s, containers, max bytes, features, safe-zone margins (t, b, l, r)
FORMATS = [
    ("Instagram Reel", "instagram-reel", "instagram", 1080, 1920, "9:16", 180, ["mp4", "mov"], 4 * GB, _supports(), (220, 420, 60, 140)),
    ("Instagram Story", "instagram-story", "instagram", 1080, 1920, "9:16", 60, ["mp4", "mov"], 4 * GB, _supports(), (250, 340, 60, 60)),
    ("Instagram Feed Post", "instagram-feed", "instagram", 1080, 1350, "4:5", 3600, ["mp4", "mov", "jpg", "png"], 4 * GB, _supports(stickers=False), (60, 60, 60, 60)),
    ("TikTok Video", "tiktok-video", "tiktok", 1080, 1920, "9:16", 600, ["mp4", "mov"], 4 * GB, _supports(), (150, 480, 60, 140)),
    ("YouTube Shorts", "youtube-shorts", "youtube", 1080, 1920, "9:16", 180, ["mp4", "mov", "webm"], 256 * GB, _supports(), (180, 360, 60, 130)),
    ("YouTube Video", "youtube-video", "youtube", 1920, 1080, "16:9", 12 * 3600, ["mp4", "mov", "webm"], 256 * GB, _supports(stickers=False), (54, 96, 96, 96)),
    ("Facebook Feed Video", "facebook-feed", "facebook", 1080, 1350, "4:5", 240 * 60, ["mp4", "mov"], 10 * GB, _supports(stickers=False), (60, 120, 60, 60)),
    ("Facebook Reel", "facebook-reel", "facebook", 1080, 1920, "9:16", 90, ["mp4", "mov"], 4 * GB, _supports(), (220, 420, 60, 140)),
    ("LinkedIn Video", "linkedin-video", "linkedin", 1920, 1080, "16:9", 15 * 60, ["mp4"], 5 * GB, _supports(stickers=False), (54, 96, 96, 96)),
    ("LinkedIn Square Video", "linkedin-square", "linkedin", 1080, 1080, "1:1", 15 * 60, ["mp4"], 5 * GB, _supports(stickers=False), (60, 120, 60, 60)),
    ("X Video", "x-video", "twitter", 1920, 1080, "16:9", 140, ["mp4", "mov"], 512 * MB, _supports(stickers=False), (54, 96, 96, 96)),
    ("Pinterest Video Pin", "pinterest-video", "pinterest", 1000, 1500, "2:3", 15 * 60, ["mp4", "mov"], 2 * GB, _supports(), (120, 300, 60, 60)),
    ("Threads Video", "threads-video", "threads", 1080, 1920, "9:16", 300, ["mp4", "mov"], 1 * GB, _supports(), (200, 380, 60, 120)),
]


def upgrade() -> None:
    op.bulk_insert(
        plans,
        [
            dict(name=n, display_name=d, description=desc, price_monthly=m, price_yearly=y, videos_per_month=v,
                 clips_per_video=c, max_video_duration=dur, export_quality=q, social_accounts=sa_, team_members=tm,
                 api_requests_daily=api, storage_gb=gb, features=f, sort_order=i)
            for i, (n, d, desc, m, y, v, c, dur, q, sa_, tm, api, gb, f) in enumerate(PLANS)
        ],
    )
    op.bulk_insert(
        formats,
        [
            dict(name=n, slug=s, platform=p, width=w, height=h, aspect_ratio=r, max_duration=dur,
                 recommended_formats=rec, max_file_size=size, supported_features=feat,
                 safe_zones=_safe_zones(w, h, *margins), sort_order=i)
            for i, (n, s, p, w, h, r, dur, rec, size, feat, margins) in enumerate(FORMATS)
        ],
    )


def downgrade() -> None:
    slugs = ", ".join(f"'{f[1]}'" for f in FORMATS)
    names = ", ".join(f"'{p[0]}'" for p in PLANS)
    op.execute(f"DELETE FROM social_formats WHERE slug IN ({slugs})")
    op.execute(f"DELETE FROM subscription_plans WHERE name IN ({names})")
