"""The rules of media.service, as the app role with RLS on: exact refusals, and a refused
change changes nothing (rows, jobs, audit)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from clipflow_api.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clipflow_api.media import service
from clipflow_api.media.service import (
    AssetNew,
    BrandKitFields,
    CaptionChanges,
    CaptionWord,
    ClipChanges,
    ClipOptions,
    FileUploadRequest,
    FolderFields,
    UserMediaFields,
    UserMediaNew,
    VideoChanges,
    VideoNew,
)
from clipflow_api.models import Asset, Caption, MediaFolder
from clipflow_api.storage import workspace_files as files
from tests.fixtures import builders

from .conftest import World


async def _audit(owner_sql: Any, resource_id: uuid.UUID) -> list[tuple[str, Any]]:
    rows = await owner_sql("SELECT action, details FROM audit_logs WHERE resource_id = :r ORDER BY created_at", r=resource_id)
    return [(r[0], r[1]) for r in rows]


async def _row(owner_sql: Any, table: str, columns: str, row_id: uuid.UUID) -> tuple:
    rows = await owner_sql(f"SELECT {columns} FROM {table} WHERE id = :i", i=row_id)  # noqa: S608 - test literals
    return tuple(rows[0]) if rows else ()


def _refused(err: pytest.ExceptionInfo, code: str, field: str | None, message: str | None = None) -> None:
    assert (err.value.code, err.value.field) == (code, field)
    if message is not None:
        assert err.value.message == message


# --- videoProcess ------------------------------------------------------------------------------


async def _uploaded_video(world: World, **kw: Any) -> Any:
    video_id = uuid.uuid4()
    return await builders.video(world.db, world.ws, id=video_id, file_url=f"videos/{video_id}/source.mp4", **kw)


async def test_process_video_is_refused_while_a_job_is_pending(world: World, owner_sql) -> None:  # noqa: ANN001
    video = await _uploaded_video(world, status="completed", processing_progress=100)
    await builders.job(world.db, world.ws, type="video_process", video_id=video.id, status="pending")
    with pytest.raises(Conflict) as err:
        await service.process_video(world.db, world.as_(), video.id, ClipOptions())
    _refused(err, "CONFLICT", "videoId", "This video is already being processed; wait until it finishes, then try again.")
    assert await _row(owner_sql, "videos", "status, processing_progress", video.id) == ("completed", 100)
    assert await owner_sql("SELECT count(*) FROM jobs WHERE video_id = :v", v=video.id) == [(1,)]
    assert await _audit(owner_sql, video.id) == []


async def test_process_video_queues_a_new_run_and_resets_the_video(world: World, owner_sql) -> None:  # noqa: ANN001
    video = await _uploaded_video(world, status="failed", processing_progress=40, error_message="boom")
    await builders.job(world.db, world.ws, type="video_process", video_id=video.id, status="failed")
    done, job = await service.process_video(world.db, world.as_("editor"), video.id, ClipOptions(style="karaoke", max_clips=8))
    assert (done.status, done.processing_progress, done.error_message) == ("pending", 0, None)
    assert (job.type, job.status, job.video_id) == ("video_process", "pending", video.id)
    assert job.input_data == {"style": "karaoke", "max_clips": 8, "min_duration": 15.0, "max_duration": 60.0}
    assert await _audit(owner_sql, video.id) == [("video.process", {"job_id": str(job.id), **job.input_data})]


@pytest.mark.parametrize(
    ("options", "field"),
    [(ClipOptions(style="comic-sans"), "style"), (ClipOptions(max_clips=0), "maxClips"), (ClipOptions(min_duration=90), "minDuration")],
)
async def test_process_video_refuses_bad_options(world: World, owner_sql, options: ClipOptions, field: str) -> None:  # noqa: ANN001
    video = await _uploaded_video(world, status="completed")
    with pytest.raises(ValidationError) as err:
        await service.process_video(world.db, world.as_(), video.id, options)
    _refused(err, "INVALID", field)
    assert await owner_sql("SELECT count(*) FROM jobs WHERE video_id = :v", v=video.id) == [(0,)]


async def test_process_video_refuses_a_typed_in_key_and_another_workspaces_video(world: World, owner_sql) -> None:  # noqa: ANN001
    typed = await builders.video(world.db, world.ws, file_url=f"videos/{uuid.uuid4()}/source.mp4")
    with pytest.raises(Conflict) as err:
        await service.process_video(world.db, world.as_(), typed.id, ClipOptions())
    _refused(err, "INVALID", "videoId")
    theirs = (await owner_sql(
        "INSERT INTO videos (workspace_id, uploaded_by, source_type, file_url) VALUES (:w, :u, 'upload', 'k') RETURNING id",
        w=world.stranger.id, u=world.stranger.owner_id))[0][0]
    with pytest.raises(NotFound) as err:
        await service.process_video(world.db, world.as_(), theirs, ClipOptions())
    _refused(err, "NOT_FOUND", "videoId")
    assert await owner_sql("SELECT count(*) FROM jobs WHERE video_id IN (:a, :b)", a=typed.id, b=theirs) == [(0,)]


async def test_process_video_needs_video_write(world: World) -> None:
    video = await _uploaded_video(world)
    with pytest.raises(PermissionDenied) as err:
        await service.process_video(world.db, world.as_("viewer"), video.id, ClipOptions())
    _refused(err, "PERMISSION_DENIED", None)


# --- videos ------------------------------------------------------------------------------------


async def test_create_update_and_delete_a_video(world: World, owner_sql) -> None:  # noqa: ANN001
    video = await service.create_video(world.db, world.as_(), VideoNew(file_url=" k.mp4 ", source_type="youtube", title=" Talk "))
    assert (video.file_url, video.source_type, video.title, video.uploaded_by) == ("k.mp4", "youtube", "Talk", world.owner.id)
    changed = await service.update_video(world.db, world.as_(), video.id, VideoChanges(tags=["a"], description=None))
    assert (changed.title, changed.tags, changed.description) == ("Talk", ["a"], None)
    await service.delete_video(world.db, world.as_("owner"), video.id)
    assert (await _row(owner_sql, "videos", "deleted_at IS NOT NULL", video.id)) == (True,)
    with pytest.raises(NotFound):
        await service.update_video(world.db, world.as_(), video.id, VideoChanges(title="x"))
    assert [a for a, _ in await _audit(owner_sql, video.id)] == ["video.create", "video.update", "video.delete"]


async def test_refused_video_changes_change_nothing(world: World, owner_sql) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as err:
        await service.create_video(world.db, world.as_(), VideoNew(file_url="k.mp4", source_type="ftp"))
    _refused(err, "INVALID", "sourceType", "The source type is upload, url, youtube, drive or dropbox.")
    video = await builders.video(world.db, world.ws, title="Keep")
    with pytest.raises(ValidationError) as err:
        await service.update_video(world.db, world.as_(), video.id, VideoChanges(description="ok", tags=["t"] * 51))
    _refused(err, "INVALID", "tags")
    assert await _row(owner_sql, "videos", "title, description, tags", video.id) == ("Keep", None, None)
    with pytest.raises(PermissionDenied):
        await service.delete_video(world.db, world.as_("editor"), video.id)  # editors have no video:delete
    assert await _row(owner_sql, "videos", "deleted_at", video.id) == (None,)
    assert await _audit(owner_sql, video.id) == []


# --- clips -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (ClipChanges(start_time=-1), "startTime", "The start cannot be negative."),
        (ClipChanges(end_time=5), "endTime", "The end must come after the start."),
        (ClipChanges(start_time=42.5), "endTime", "The end must come after the start."),
        (ClipChanges(end_time=120.001), "endTime", "The end is past the end of the video."),
    ],
    ids=["negative-start", "end-before-start", "empty", "past-the-video"],
)
async def test_clip_timing_stays_within_the_video(world: World, owner_sql, changes: ClipChanges, field: str, message: str) -> None:  # noqa: ANN001
    clip = await builders.clip(world.db, await builders.video(world.db, world.ws, duration_seconds=120), start="10", end="42.5")  # 10 to 42.5
    changes.title = "Not kept"
    with pytest.raises(ValidationError) as err:
        await service.update_clip(world.db, world.as_(), clip.id, changes)
    _refused(err, "INVALID", field, message)
    assert await _row(owner_sql, "clips", "title, start_time, end_time, status", clip.id) == (
        None, Decimal("10.000"), Decimal("42.500"), "generated")
    assert await _audit(owner_sql, clip.id) == []


async def test_clip_update_keeps_milliseconds_and_marks_the_clip_edited(world: World, owner_sql) -> None:  # noqa: ANN001
    clip = await builders.clip(world.db, await builders.video(world.db, world.ws, duration_seconds=120), start="10", end="42.5")
    changed = await service.update_clip(world.db, world.as_("editor"), clip.id,
                                        ClipChanges(start_time=12.34567, end_time=120, caption_style="bold"))
    assert (changed.start_time, changed.end_time, changed.caption_style, changed.status) == (
        Decimal("12.346"), Decimal("120.000"), "bold", "edited")
    assert await _audit(owner_sql, clip.id) == [
        ("clip.update", {"caption_style": "bold", "start_time": "12.346", "end_time": "120.000"})]
    cleared = await service.update_clip(world.db, world.as_(), clip.id, ClipChanges(caption_style=None))
    assert cleared.caption_style is None
    with pytest.raises(ValidationError) as err:
        await service.update_clip(world.db, world.as_(), clip.id, ClipChanges(caption_style="comic"))
    _refused(err, "INVALID", "captionStyle", "The caption style is hormozi, minimal, bold or karaoke.")


async def test_a_published_clip_is_neither_approved_nor_rejected(world: World, owner_sql) -> None:  # noqa: ANN001
    clip = await builders.clip(world.db, await builders.video(world.db, world.ws), status="published")
    with pytest.raises(Conflict) as err:
        await service.approve_clip(world.db, world.as_(), clip.id)
    _refused(err, "INVALID", "id", "A published clip cannot be re-approved.")
    with pytest.raises(Conflict) as err:
        await service.reject_clip(world.db, world.as_(), clip.id, "meh")
    _refused(err, "INVALID", "id", "A published clip cannot be rejected.")
    assert await _row(owner_sql, "clips", "status, approved_by, rejection_reason", clip.id) == ("published", None, None)
    assert await _audit(owner_sql, clip.id) == []


async def test_approve_then_reject_a_clip(world: World, owner_sql) -> None:  # noqa: ANN001
    clip = await builders.clip(world.db, await builders.video(world.db, world.ws), rejection_reason="old")
    approved = await service.approve_clip(world.db, world.as_("admin"), clip.id)
    assert (approved.status, approved.approved_by, approved.rejection_reason) == ("approved", world.owner.id, None)
    assert approved.approved_at is not None
    rejected = await service.reject_clip(world.db, world.as_(), clip.id, "  off brand ")
    assert (rejected.status, rejected.approved_by, rejected.approved_at, rejected.rejection_reason) == ("rejected", None, None, "off brand")
    assert await _audit(owner_sql, clip.id) == [("clip.approve", None), ("clip.reject", {"reason": "off brand"})]
    with pytest.raises(PermissionDenied):
        await service.approve_clip(world.db, world.as_("scheduler"), clip.id)


# --- captions ----------------------------------------------------------------------------------


async def _caption(world: World) -> Caption:
    clip = await builders.clip(world.db, await builders.video(world.db, world.ws), start="20", end="28")  # 8 seconds
    caption = Caption(workspace_id=world.ws.id, clip_id=clip.id, style="hormozi",
                      words=[{"word": "hello", "start": 0.0, "end": 0.4}, {"word": "world", "start": 0.4, "end": 0.9}])
    world.db.add(caption)
    await world.db.flush()
    return caption


def _words(*spans: tuple[str, float, float]) -> list[CaptionWord]:
    return [CaptionWord(w, s, e) for w, s, e in spans]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (_words(("one", 0.5, 0.9), ("two", 0.2, 0.4)), "Word 2 starts before word 1: words must be in order."),
        (_words(("one", 0.0, 0.6), ("two", 0.5, 0.9)), "Word 2 starts before word 1 ends: words must not overlap."),
        (_words(("one", 0.0, 0.5), ("two", 7.6, 8.001)), "Word 2 ends after the clip, which is 8 seconds long."),
        (_words(("one", 0.6, 0.5)), "Word 1 must start at 0 or later and end after it starts."),
        (_words(("one", -0.1, 0.5)), "Word 1 must start at 0 or later and end after it starts."),
        (_words(("  ", 0.0, 0.5)), "Word 1 is empty or longer than 100 characters."),
        (_words(("x" * 101, 0.0, 0.5)), "Word 1 is empty or longer than 100 characters."),
    ],
    ids=["out-of-order", "overlap", "past-the-clip", "ends-before-start", "negative", "empty", "too-long"],
)
async def test_caption_words_are_in_order_apart_and_within_the_clip(world: World, owner_sql, words, message) -> None:  # noqa: ANN001
    caption = await _caption(world)
    with pytest.raises(ValidationError) as err:
        await service.update_caption(world.db, world.as_(), caption.id, CaptionChanges(words=words, style="bold"))
    _refused(err, "INVALID", "words", message)
    assert await _row(owner_sql, "captions", "style, words", caption.id) == (
        "hormozi", [{"word": "hello", "start": 0.0, "end": 0.4}, {"word": "world", "start": 0.4, "end": 0.9}])
    assert await _audit(owner_sql, caption.id) == []


async def test_caption_words_that_touch_and_fill_the_clip_are_kept_with_the_look(world: World, owner_sql) -> None:  # noqa: ANN001
    caption = await _caption(world)
    words = _words(("so", 0.0, 0.25), ("what", 0.25, 0.6), ("now", 7.0, 8.0))
    changed = await service.update_caption(world.db, world.as_("editor"), caption.id, CaptionChanges(
        words=words, style="karaoke", position="top", font_size=48, font_color="#ffffff", background_color="#00000080"))
    assert changed.words == [{"word": "so", "start": 0.0, "end": 0.25}, {"word": "what", "start": 0.25, "end": 0.6},
                             {"word": "now", "start": 7.0, "end": 8.0}]
    assert (changed.style, changed.position, changed.font_size, changed.font_color, changed.background_color) == (
        "karaoke", "top", 48, "#ffffff", "#00000080")
    assert await _audit(owner_sql, caption.id) == [("caption.update", {
        "words": 3, "style": "karaoke", "position": "top", "font_size": 48, "font_color": "#ffffff", "background_color": "#00000080"})]


@pytest.mark.parametrize(
    ("changes", "field"),
    [(CaptionChanges(font_size=7), "fontSize"), (CaptionChanges(position="left"), "position"),
     (CaptionChanges(style="comic"), "style"), (CaptionChanges(font_color="#fff"), "fontColor")],
)
async def test_refused_caption_looks_change_nothing(world: World, owner_sql, changes: CaptionChanges, field: str) -> None:  # noqa: ANN001
    caption = await _caption(world)
    changes.font_family = "Inter"
    with pytest.raises(ValidationError) as err:
        await service.update_caption(world.db, world.as_(), caption.id, changes)
    _refused(err, "INVALID", field)
    assert await _row(owner_sql, "captions", "style, position, font_size, font_family", caption.id) == ("hormozi", "bottom", None, None)


# --- uploaded files ----------------------------------------------------------------------------


async def test_file_upload_hands_out_a_key_of_the_workspace(world: World, owner_sql) -> None:  # noqa: ANN001
    ticket = await service.create_file_upload(world.db, world.as_(), FileUploadRequest("brand_kit", "my logo.png", "Image/PNG", 10),
                                              storage=world.storage, url_ttl_s=600)
    assert files.is_workspace_file(ticket.key, world.ws.id) and ticket.key.endswith("/my_logo.png")
    assert (ticket.method, ticket.headers) == ("PUT", {"Content-Type": "image/png", "Content-Length": "10"})
    entries = await owner_sql("SELECT action, details FROM audit_logs WHERE workspace_id = :w AND action = 'file_upload.create'", w=world.ws.id)
    assert [tuple(e) for e in entries] == [("file_upload.create", {"purpose": "brand_kit", "key": ticket.key, "content_type": "image/png", "size": 10})]


@pytest.mark.parametrize(
    ("request_", "error", "code", "field"),
    [
        (FileUploadRequest("brand_kit", "a.mp4", "video/mp4", 10), ValidationError, "INVALID", "contentType"),
        (FileUploadRequest("asset", "a.png", "image/png; x=1", 10), ValidationError, "INVALID", "contentType"),
        (FileUploadRequest("asset", " ", "image/png", 10), ValidationError, "REQUIRED", "filename"),
        (FileUploadRequest("asset", "a.png", "image/png", 0), ValidationError, "INVALID", "size"),
        (FileUploadRequest("asset", "a.png", "image/png", 6 * 1024**3), Conflict, "PLAN_LIMIT_REACHED", "size"),
    ],
    ids=["wrong-type-for-purpose", "parameters", "no-name", "empty", "over-the-plan"],
)
async def test_refused_file_uploads_record_nothing(world: World, owner_sql, request_, error, code, field) -> None:  # noqa: ANN001
    with pytest.raises(error) as err:
        await service.create_file_upload(world.db, world.as_(), request_, storage=world.storage, url_ttl_s=600)
    _refused(err, code, field)
    assert await owner_sql("SELECT count(*) FROM audit_logs WHERE workspace_id = :w", w=world.ws.id) == [(0,)]


async def test_a_file_upload_needs_the_purposes_permission(world: World) -> None:
    with pytest.raises(PermissionDenied):
        await service.create_file_upload(world.db, world.as_("scheduler"), FileUploadRequest("brand_kit", "a.png", "image/png", 1),
                                         storage=world.storage, url_ttl_s=600)


# --- brand kits --------------------------------------------------------------------------------


async def _kits(owner_sql: Any, world: World) -> list[tuple]:
    return [tuple(r) for r in await owner_sql(
        "SELECT name, is_default FROM brand_kits WHERE workspace_id = :w ORDER BY name", w=world.ws.id)]


async def test_one_default_brand_kit_per_workspace(world: World, owner_sql) -> None:  # noqa: ANN001
    first = await service.create_brand_kit(world.db, world.as_(), BrandKitFields(name="A", is_default=True), storage=world.storage)
    second = await service.create_brand_kit(world.db, world.as_(), BrandKitFields(name="B", is_default=True), storage=world.storage)
    assert await _kits(owner_sql, world) == [("A", False), ("B", True)]
    await service.update_brand_kit(world.db, world.as_(), first.id, BrandKitFields(is_default=True), storage=world.storage)
    assert await _kits(owner_sql, world) == [("A", True), ("B", False)]
    await service.update_brand_kit(world.db, world.as_(), second.id, BrandKitFields(name="B2", is_default=False), storage=world.storage)
    assert await _kits(owner_sql, world) == [("A", True), ("B2", False)]
    assert [a for a, _ in await _audit(owner_sql, first.id)] == ["brand_kit.create", "brand_kit.update"]


async def test_brand_kits_are_a_plan_feature(world: World, owner_sql) -> None:  # noqa: ANN001
    free = world.stranger
    from tests.auth.helpers import principal
    from tests.fixtures.builders import use_tenant

    await use_tenant(world.db, free.id, free.owner_id)
    with pytest.raises(Conflict) as err:
        await service.create_brand_kit(world.db, principal(free.owner_id, free.id, "owner"), BrandKitFields(name="K"), storage=world.storage)
    assert err.value.code == "PLAN_FEATURE_REQUIRED"
    assert await owner_sql("SELECT count(*) FROM brand_kits WHERE workspace_id = :w", w=free.id) == [(0,)]


async def test_brand_kit_files_must_be_the_workspaces_uploads(world: World, owner_sql) -> None:  # noqa: ANN001
    own = world.upload("logo.png")
    foreign = world.upload("logo.png", workspace=world.stranger)
    never_sent = files.new_upload_key(world.ws.id, "ghost.png")
    kit = await service.create_brand_kit(world.db, world.as_(), BrandKitFields(name="K", logo_url=f" {own} "), storage=world.storage)
    assert kit.logo_url == own
    for key, field, message in (
        (foreign, "watermark_url", "Upload the file with fileUploadCreate first and use the key it returns."),
        ("videos/x/source.mp4", "logo_dark_url", "Upload the file with fileUploadCreate first and use the key it returns."),
        (never_sent, "logo_url", "No file was uploaded to this key; send the file to the upload URL first."),
    ):
        with pytest.raises(ValidationError) as err:
            await service.update_brand_kit(world.db, world.as_(), kit.id, BrandKitFields(name="Changed", **{field: key}), storage=world.storage)
        _refused(err, "INVALID", field, message)
    assert await _row(owner_sql, "brand_kits", "name, logo_url, logo_dark_url, watermark_url", kit.id) == ("K", own, None, None)


@pytest.mark.parametrize(
    ("fields", "field"),
    [(BrandKitFields(watermark_position="top-middle"), "watermarkPosition"), (BrandKitFields(watermark_opacity=1.5), "watermarkOpacity"),
     (BrandKitFields(primary_color="blue"), "primary_color"), (BrandKitFields(default_hashtags=["#a"] * 31), "defaultHashtags"),
     (BrandKitFields(name=" "), "name")],
)
async def test_refused_brand_kit_fields_change_nothing(world: World, owner_sql, fields: BrandKitFields, field: str) -> None:  # noqa: ANN001
    kit = await service.create_brand_kit(world.db, world.as_(), BrandKitFields(name="K", watermark_position="top-left"), storage=world.storage)
    fields.is_default = True
    with pytest.raises(ValidationError) as err:
        await service.update_brand_kit(world.db, world.as_(), kit.id, fields, storage=world.storage)
    assert err.value.field == field
    assert await _row(owner_sql, "brand_kits", "name, watermark_position, is_default", kit.id) == ("K", "top-left", False)
    assert [a for a, _ in await _audit(owner_sql, kit.id)] == ["brand_kit.create"]


async def test_every_watermark_position_is_kept(world: World) -> None:
    from clipflow_api.models.enums import WatermarkPosition

    kit = await service.create_brand_kit(world.db, world.as_(), BrandKitFields(name="K", watermark_opacity=0.456), storage=world.storage)
    assert kit.watermark_opacity == Decimal("0.46")
    for position in WatermarkPosition:
        changed = await service.update_brand_kit(world.db, world.as_(), kit.id, BrandKitFields(watermark_position=position), storage=world.storage)
        assert changed.watermark_position == position.value


async def test_delete_a_brand_kit(world: World, owner_sql) -> None:  # noqa: ANN001
    kit = await service.create_brand_kit(world.db, world.as_(), BrandKitFields(name="K"), storage=world.storage)
    gone = await service.delete_brand_kit(world.db, world.as_(), kit.id)
    assert gone.name == "K"
    assert await _row(owner_sql, "brand_kits", "id", kit.id) == ()
    assert await _audit(owner_sql, kit.id) == [("brand_kit.create", {"name": "K"}), ("brand_kit.delete", {"name": "K"})]


# --- assets ------------------------------------------------------------------------------------


async def test_assets_point_only_at_the_workspaces_uploads(world: World, owner_sql) -> None:  # noqa: ANN001
    foreign = world.upload("song.mp3", workspace=world.stranger)
    with pytest.raises(ValidationError) as err:
        await service.create_asset(world.db, world.as_(), AssetNew(name="Song", type="audio", file_url=foreign), storage=world.storage)
    _refused(err, "INVALID", "fileUrl")
    with pytest.raises(ValidationError) as err:
        await service.create_asset(world.db, world.as_(), AssetNew(name="Song", type="midi", file_url=foreign), storage=world.storage)
    _refused(err, "INVALID", "type", "Type is image, video, audio or font.")
    assert await owner_sql("SELECT count(*) FROM assets WHERE workspace_id = :w", w=world.ws.id) == [(0,)]
    own = world.upload("song.mp3", body=b"x" * 1234)
    asset = await service.create_asset(world.db, world.as_(), AssetNew(name=" Song ", type="audio", file_url=own, tags=["a"]),
                                       storage=world.storage)
    assert (asset.name, asset.type, asset.file_url, asset.file_size_bytes, asset.tags) == ("Song", "audio", own, 1234, ["a"])
    assert await _audit(owner_sql, asset.id) == [("asset.create", {"name": "Song"})]


async def test_system_assets_cannot_be_deleted(world: World, owner_sql) -> None:  # noqa: ANN001
    system_id = (await owner_sql(
        "INSERT INTO assets (name, type, file_url) VALUES ('Beat', 'audio', 'system/beat.mp3') RETURNING id"))[0][0]
    with pytest.raises(PermissionDenied) as err:
        await service.delete_asset(world.db, world.as_(), system_id)
    _refused(err, "PERMISSION_DENIED", "id", "System assets cannot be deleted.")
    assert await _row(owner_sql, "assets", "name", system_id) == ("Beat",)
    own = Asset(workspace_id=world.ws.id, name="Mine", type="image", file_url=world.upload())
    world.db.add(own)
    await world.db.flush()
    assert (await service.delete_asset(world.db, world.as_(), own.id)).name == "Mine"
    assert await _row(owner_sql, "assets", "name", own.id) == ()
    assert await _audit(owner_sql, own.id) == [("asset.delete", {"name": "Mine"})]


# --- media folders -----------------------------------------------------------------------------


async def _folder(world: World, name: str, parent: MediaFolder | None = None) -> MediaFolder:
    folder = MediaFolder(workspace_id=world.ws.id, user_id=world.owner.id, name=name, parent_id=parent.id if parent else None)
    world.db.add(folder)
    await world.db.flush()
    return folder


async def test_a_folder_cannot_move_into_itself_or_below_itself(world: World, owner_sql) -> None:  # noqa: ANN001
    root = await _folder(world, "Root")
    child = await _folder(world, "Child", root)
    grandchild = await _folder(world, "Grandchild", child)
    for target in (root, child, grandchild):
        with pytest.raises(ValidationError) as err:
            await service.update_folder(world.db, world.as_(), root.id, FolderFields(name="Moved", parent_id=target.id))
        _refused(err, "INVALID", "parentId", "A folder cannot move into itself or a sub-folder.")
    assert await _row(owner_sql, "media_folders", "name, parent_id", root.id) == ("Root", None)
    assert await _audit(owner_sql, root.id) == []
    # moving a branch elsewhere (and back to the top) is fine
    other = await _folder(world, "Other")
    moved = await service.update_folder(world.db, world.as_(), child.id, FolderFields(parent_id=other.id, color="#336699"))
    assert (moved.parent_id, moved.color) == (other.id, "#336699")
    top = await service.update_folder(world.db, world.as_(), child.id, FolderFields(parent_id=None))
    assert top.parent_id is None
    assert await _audit(owner_sql, child.id) == [
        ("media_folder.update", {"color": "#336699", "parent_id": str(other.id)}), ("media_folder.update", {"parent_id": None})]


async def test_folders_of_another_workspace_are_not_found(world: World, owner_sql) -> None:  # noqa: ANN001
    theirs = (await owner_sql("INSERT INTO media_folders (workspace_id, user_id, name) VALUES (:w, :u, 'T') RETURNING id",
                              w=world.stranger.id, u=world.stranger.owner_id))[0][0]
    with pytest.raises(NotFound) as err:
        await service.create_folder(world.db, world.as_(), FolderFields(name="F", parent_id=theirs))
    _refused(err, "NOT_FOUND", "parentId")
    with pytest.raises(ValidationError) as err:
        await service.create_folder(world.db, world.as_(), FolderFields(color="#000000"))
    _refused(err, "REQUIRED", "name")
    assert await owner_sql("SELECT count(*) FROM media_folders WHERE workspace_id = :w", w=world.ws.id) == [(0,)]
    made = await service.create_folder(world.db, world.as_("editor"), FolderFields(name=" F ", is_shared=True))
    assert (made.name, made.user_id, made.is_shared, made.parent_id) == ("F", world.owner.id, True, None)


async def test_deleting_a_folder_takes_its_sub_folders(world: World, owner_sql) -> None:  # noqa: ANN001
    root = await _folder(world, "Root")
    child = await _folder(world, "Child", root)
    await service.delete_folder(world.db, world.as_(), root.id)
    assert await _row(owner_sql, "media_folders", "id", child.id) == ()
    assert await _audit(owner_sql, root.id) == [("media_folder.delete", {"name": "Root"})]


# --- the media library -------------------------------------------------------------------------


def _media(world: World, key: str, **kw: Any) -> UserMediaNew:
    return UserMediaNew(original_name="a.png", mime_type="image/png", file_size=1, storage_key=key, media_type="image", **kw)


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [({"media_type": "gif"}, "INVALID", "mediaType"), ({"file_size": -1}, "INVALID", "fileSize"),
     ({"storage_key": "FOREIGN"}, "INVALID", "storageKey"), ({"storage_key": " "}, "REQUIRED", "storageKey"),
     ({"original_name": " "}, "REQUIRED", "originalName"), ({"mime_type": ""}, "REQUIRED", "mimeType")],
)
async def test_refused_library_files_are_not_added(world: World, owner_sql, change: dict, code: str, field: str) -> None:  # noqa: ANN001
    data = _media(world, world.upload())
    for name, value in change.items():
        setattr(data, name, world.upload(workspace=world.stranger) if value == "FOREIGN" else value)
    with pytest.raises(ValidationError) as err:
        await service.create_user_media(world.db, world.as_(), data, storage=world.storage, storage_provider="local")
    _refused(err, code, field)
    assert await owner_sql("SELECT count(*) FROM user_media WHERE workspace_id = :w", w=world.ws.id) == [(0,)]


async def test_a_library_file_takes_its_size_from_storage_and_moves_between_folders(world: World, owner_sql) -> None:  # noqa: ANN001
    key = world.upload("photo.png", body=b"p" * 77)
    folder = await _folder(world, "Photos")
    media = await service.create_user_media(world.db, world.as_(), _media(world, key, folder_id=folder.id, tags=["x"]),
                                            storage=world.storage, storage_provider="local")
    assert (media.filename, media.file_size, media.storage_key, media.public_url, media.folder_id, media.tags, media.user_id) == (
        "photo.png", 77, key, key, folder.id, ["x"], world.owner.id)
    theirs = (await owner_sql("INSERT INTO media_folders (workspace_id, user_id, name) VALUES (:w, :u, 'T') RETURNING id",
                              w=world.stranger.id, u=world.stranger.owner_id))[0][0]
    with pytest.raises(NotFound) as err:
        await service.update_user_media(world.db, world.as_(), media.id, UserMediaFields(description="d", folder_id=theirs))
    _refused(err, "NOT_FOUND", "folderId")
    assert await _row(owner_sql, "user_media", "description, folder_id", media.id) == (None, folder.id)
    moved = await service.update_user_media(world.db, world.as_(), media.id, UserMediaFields(description="d", folder_id=None))
    assert (moved.description, moved.folder_id) == ("d", None)
    await service.delete_user_media(world.db, world.as_(), media.id)
    assert await _audit(owner_sql, media.id) == [
        ("user_media.create", {"name": "a.png"}),
        ("user_media.update", {"description": "d", "folder_id": None}),
        ("user_media.delete", {"name": "a.png"}),
    ]
    assert await _row(owner_sql, "user_media", "id", media.id) == ()


async def test_the_library_needs_media_write(world: World) -> None:
    with pytest.raises(PermissionDenied):
        await service.create_folder(world.db, world.as_("viewer"), FolderFields(name="F"))
