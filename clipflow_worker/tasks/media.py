"""Media jobs: ``probe_video`` (facts only) and ``process_video`` (the whole clip engine).

Both take ids, reload state, and can run twice: ``process_video`` keeps the transcript it
saved, finds the clip rows a killed run created (one row per span, by a unique index) and
renders only clips whose files are not all stored yet.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func

from clipflow_api.billing.plans import has_feature, plan_of_workspace
from clipflow_api.models import Asset, Video
from clipflow_api.models.enums import CaptionStyle, WatermarkPosition
from clipflow_api.processing import repository as repo
from clipflow_api.processing.importer import ImportRefused, download
from clipflow_api.processing.service import upload_limit_bytes
from clipflow_api.storage import StorageError
from clipflow_api.storage.workspace_files import is_workspace_file
from clipflow_worker.pipeline.clipper import ClipOptions, analyze_video, extract_thumbnail, render_clip, render_progress
from clipflow_worker.pipeline.language import span_language
from clipflow_worker.pipeline.llm import llm_refiner
from clipflow_worker.pipeline.probe import ProbeLimits, probe_media
from clipflow_worker.pipeline.types import BrandKit, Transcript

from .progress import ProgressPump
from .runner import JobRun, UserFacingError, run_job


async def _load_video(run: JobRun) -> Video:
    async with run.session() as s:
        video = await repo.get_video(s, run.video_id) if run.video_id else None
    if video is None:
        raise UserFacingError("The video was deleted before it could be processed.")
    return video


async def _probe(run: JobRun) -> dict[str, Any]:
    video = await _load_video(run)
    await run.progress(10, "Reading the video file", step="probe", video_status="processing")
    with run.ctx["storage"].local_copy(video.file_url) as path:
        info = await asyncio.to_thread(probe_media, path)
    async with run.session() as s:
        await repo.update_video(s, video.id, **_facts(info))
        await s.commit()
    await run.progress(90, "Video facts recorded", step="probe")
    return info.to_dict()


def _facts(info: Any) -> dict[str, Any]:
    return {
        "duration_seconds": round(info.duration),
        "width": info.display_width,
        "height": info.display_height,
        "fps": Decimal(f"{info.fps:.2f}"),
        "codec": info.video_codec,
        "file_size_bytes": info.size_bytes,
    }


async def probe_video(ctx: dict[str, Any], job_id: str, workspace_id: str) -> dict[str, Any] | None:
    """Probe a stored video (duration, size, fps, codec, rotation) into its row."""
    return await run_job(ctx, job_id, workspace_id, _probe)


def _fetch(storage: Any, key: str | None, dest_dir: Path, name: str, *, workspace_id: Any, what: str) -> Path | None:
    """A stored file (watermark, music) copied next to the job; None when there is none to copy.

    Checked again here, whatever the API accepted: a row can hold any text (an old row, a
    direct write), and a key outside the workspace's uploads would copy another
    workspace's file into this one's render.
    """
    if key and workspace_id is not None and not is_workspace_file(key, workspace_id):
        raise UserFacingError(f"The {what} is not a file uploaded to this workspace; upload it again and choose it anew.")
    try:
        if not key or not storage.exists(key):
            return None
        with storage.local_copy(key) as src:
            dest = dest_dir / f"{name}{Path(key).suffix.lower()}"
            shutil.copyfile(src, dest)
    except StorageError:
        return None
    return dest


async def _options(run: JobRun, tmp: Path) -> ClipOptions:
    """Options from the job input, capped by the workspace's plan, with its brand kit and music."""
    settings = run.ctx["settings"]
    storage = run.ctx["storage"]
    music_id = run.input_data.get("music_asset_id")
    async with run.session() as s:
        plan = await plan_of_workspace(s, run.workspace_id)
        # a kit made on a paid plan does not keep rendering after a downgrade
        kit = await repo.default_brand_kit(s, run.workspace_id) if has_feature(plan, "brand_kit") else None
        music_asset = await s.get(Asset, uuid.UUID(music_id)) if music_id else None
        await repo.update_video(s, run.video_id, status="processing", processing_progress=0,
                                processing_started_at=func.now(), error_message=None)
        await s.commit()
    wanted = int(run.input_data.get("max_clips", 5))
    cap = plan.clips_per_video or wanted
    brand = None
    if kit is not None:
        brand = BrandKit(
            primary_color=kit.primary_color, secondary_color=kit.secondary_color, accent_color=kit.accent_color,
            text_color=kit.text_color, heading_font=kit.heading_font, body_font=kit.body_font,
            watermark_path=str(p) if (p := _fetch(storage, kit.watermark_url, tmp, "watermark", workspace_id=run.workspace_id,
                                                   what="brand kit's watermark")) else None,
            watermark_position=kit.watermark_position or WatermarkPosition.TOP_RIGHT.value,
            watermark_opacity=float(kit.watermark_opacity) if kit.watermark_opacity is not None else 0.8,
        )
    music = None
    if music_id:
        if music_asset is None or music_asset.type != "audio":
            raise UserFacingError("The music track chosen for these clips no longer exists.")
        # system assets (no workspace) are ours; a workspace's asset must be one of its uploads
        music = _fetch(storage, music_asset.file_url, tmp, "music",
                       workspace_id=run.workspace_id if music_asset.workspace_id is not None else None, what="music track")
        if music is None:
            raise UserFacingError("The music track's file is missing; choose another track.")
    return ClipOptions(
        style=run.input_data.get("style", CaptionStyle.HORMOZI.value),
        max_clips=max(1, min(wanted, cap)),
        min_duration=float(run.input_data.get("min_duration", 15.0)),
        max_duration=float(run.input_data.get("max_duration", 60.0)),
        asr_engine=settings.asr_engine,
        asr_model=settings.asr_model,
        asr_device=settings.asr_device,
        brand=brand,
        music=music,
        limits=ProbeLimits(max_duration=float(plan.max_video_duration)),
        refine=llm_refiner(settings.llm_provider, settings.llm_base_url, settings.llm_api_key, settings.llm_model),
    )


async def _import_if_needed(run: JobRun, video: Video) -> None:
    """A URL import: download (public addresses only) into the video's storage key."""
    storage = run.ctx["storage"]
    if video.source_type != "url" or storage.exists(video.file_url):
        return
    await run.progress(1, "Downloading the video", step="download", video_status="processing")
    async with run.session() as s:
        limit = await upload_limit_bytes(s, run.workspace_id)
    with tempfile.TemporaryDirectory(prefix="clipflow-import-") as tmp:
        dest = Path(tmp) / "source"
        try:
            settings = run.ctx["settings"]
            size = await download(video.source_url or "", dest, max_bytes=limit, allow=settings.import_allow_networks,
                                  total_timeout=settings.import_total_timeout_s, min_rate_bps=settings.import_min_rate_bps,
                                  min_rate_grace_s=settings.import_min_rate_grace_s)
        except ImportRefused as exc:
            raise UserFacingError(str(exc)) from exc
        await asyncio.to_thread(storage.put_file, video.file_url, dest)
    async with run.session() as s:
        await repo.update_video(s, video.id, file_size_bytes=size)
        await s.commit()


async def _process(run: JobRun) -> dict[str, Any]:
    video = await _load_video(run)
    with tempfile.TemporaryDirectory(prefix="clipflow-job-") as tmp:
        options = await _options(run, Path(tmp))
        await _import_if_needed(run, video)
        return await _make_clips(run, video, options, Path(tmp))


async def _make_clips(run: JobRun, video: Video, options: ClipOptions, tmp: Path) -> dict[str, Any]:
    storage = run.ctx["storage"]
    saved = Transcript.from_dict(video.transcript) if video.transcript else None
    pump = ProgressPump(run)
    try:
        with storage.local_copy(video.file_url) as source:
            analysis = await asyncio.to_thread(analyze_video, source, options, transcript=saved, progress=pump.report)
            thumb_key = f"videos/{video.id}/thumbnail.jpg"
            thumb = await asyncio.to_thread(extract_thumbnail, source, tmp / "thumb.jpg", min(5.0, analysis.info.duration / 10))
            await asyncio.to_thread(storage.put_file, thumb_key, thumb, "image/jpeg")
            async with run.session() as s:
                await repo.update_video(
                    s, video.id, **_facts(analysis.info), transcript=transcript_record(analysis),
                    language_detected=languages_column(analysis.transcript), topics=analysis.topics,
                    key_moments=analysis.key_moments, thumbnail_url=thumb_key,
                )
                await s.commit()
            clip_ids = []
            for index, candidate in enumerate(analysis.candidates):
                clip_ids.append(str(await _render_one(run, video, source, candidate, analysis, options, index, tmp, pump)))
    finally:
        await pump.close()
    if not analysis.candidates:
        return await _no_clips(run, video, analysis)
    async with run.session() as s:
        await repo.update_video(s, video.id, status="completed", processing_progress=100,
                                processing_completed_at=func.now(), error_message=None)
        await s.commit()
    await run.progress(100, f"{len(clip_ids)} clips ready", step="done", video_status="completed")
    return {"clips": clip_ids, "language": analysis.transcript.language, "duration": analysis.info.duration,
            **_language_output(analysis.transcript)}


def transcript_record(analysis: Any) -> dict[str, Any]:
    """The transcript JSONB: words, languages, untranscribed parts and, when there are no clips, why."""
    record: dict[str, Any] = analysis.transcript.to_dict()
    record["no_clip_reason"] = analysis.no_clip_reason
    return record


def languages_column(transcript: Transcript) -> str:
    """videos.language_detected (10 characters): the languages heard, most spoken first ("en,fr")."""
    out = ""
    for code in transcript.languages or (transcript.language,):
        joined = f"{out},{code}" if out else code
        if len(joined) > 10:
            break
        out = joined
    return out or transcript.language


def _language_output(transcript: Transcript) -> dict[str, Any]:
    return {"languages": list(transcript.languages or (transcript.language,)),
            "untranscribed": [dict(p) for p in transcript.untranscribed]}


async def _no_clips(run: JobRun, video: Video, analysis: Any) -> dict[str, Any]:
    """Nothing worth a clip is a finished job, not a failure: the video completes and says why."""
    reason = analysis.no_clip_reason or "No clips: nothing in this video was worth a clip."
    async with run.session() as s:
        await repo.update_video(s, video.id, status="completed", processing_progress=100,
                                processing_completed_at=func.now(), error_message=None)
        await s.commit()
    await run.progress(100, reason, step="done", video_status="completed")
    return {"clips": [], "no_clip_reason": reason, "language": analysis.transcript.language,
            "duration": analysis.info.duration, **_language_output(analysis.transcript)}


async def _render_one(run: JobRun, video: Video, source: Path, candidate: Any, analysis: Any, options: ClipOptions,
                      index: int, tmp: Path, pump: ProgressPump) -> Any:
    """Render and store one clip, unless a previous run already stored all its files."""
    storage = run.ctx["storage"]
    start, end = Decimal(f"{candidate.start:.3f}"), Decimal(f"{candidate.end:.3f}")
    async with run.session() as s:
        clip = await repo.clip_for_span(s, video=video, start=start, end=end, values={
            "title": candidate.title, "transcript_segment": candidate.text, "virality_score": candidate.virality_score,
            "hook_score": candidate.hook_score, "engagement_score": candidate.engagement_score,
            "topics": candidate.topics, "emotions": candidate.emotions, "caption_style": options.style,
            "has_music": options.music is not None,
            "music_track_id": uuid.UUID(run.input_data["music_asset_id"]) if options.music else None,
        })
        await s.commit()
    keys = {fmt: f"clips/{clip.id}/{fmt.replace(':', 'x')}.mp4" for fmt in options.formats}
    if set(clip.file_urls or {}) >= set(keys) and all(storage.exists(k) for k in keys.values()):
        return clip.id  # a previous run finished this clip
    out = tmp / f"clip{index}"
    rendered = await asyncio.to_thread(
        render_clip, source, candidate, analysis.transcript, out, options,
        stem="clip", progress=render_progress(pump.report, index, len(analysis.candidates)),
    )
    for fmt, key in keys.items():
        await asyncio.to_thread(storage.put_file, key, rendered.files[fmt], "video/mp4")
    thumb_key = None
    if rendered.thumbnail is not None:
        thumb_key = f"clips/{clip.id}/thumbnail.jpg"
        await asyncio.to_thread(storage.put_file, thumb_key, rendered.thumbnail, "image/jpeg")
    srt_key, vtt_key = f"clips/{clip.id}/captions.srt", f"clips/{clip.id}/captions.vtt"
    await asyncio.to_thread(storage.put_file, srt_key, rendered.srt, "application/x-subrip")
    await asyncio.to_thread(storage.put_file, vtt_key, rendered.vtt, "text/vtt")
    async with run.session() as s:
        await repo.save_rendered_clip(s, clip, file_urls=keys, thumbnail_url=thumb_key, caption={
            "style": options.style, "words": rendered.words, "srt_url": srt_key, "vtt_url": vtt_key,
            "language": span_language(analysis.transcript, candidate.start, candidate.end),
        })
        await s.commit()
    return clip.id


async def process_video(ctx: dict[str, Any], job_id: str, workspace_id: str) -> dict[str, Any] | None:
    """Turn a stored video into scored, captioned clips in three formats."""
    return await run_job(ctx, job_id, workspace_id, _process)

