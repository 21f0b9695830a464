"""Bad input: every case ends with the video ``failed``, a message a user understands,
nothing left ``processing`` and the worker still standing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.db import set_tenant
from clipflow_api.jobs import service
from clipflow_api.models import Job, Video
from clipflow_api.storage import get_storage
from clipflow_worker.pipeline.ffmpeg import run_ffmpeg
from clipflow_worker.tasks.context import shutdown, startup
from clipflow_worker.tasks.media import process_video
from tests.fixtures import builders

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "talk.mp4"
UNREADABLE = "This file is not a video we can read (it may be corrupt or in an unsupported format)."


def _corrupt(tmp: Path) -> Path:
    p = tmp / "corrupt.mp4"
    p.write_bytes(bytes(range(256)) * 400)
    return p


def _empty(tmp: Path) -> Path:
    p = tmp / "empty.mp4"
    p.write_bytes(b"")
    return p


def _truncated(tmp: Path) -> Path:
    p = tmp / "truncated.mp4"
    p.write_bytes(SAMPLE.read_bytes()[:300_000])
    return p


def _playlist(tmp: Path) -> Path:
    p = tmp / "playlist.m3u8"
    p.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{SAMPLE}\n#EXT-X-ENDLIST\n")
    return p


def _concat_as_mp4(tmp: Path) -> Path:
    p = tmp / "list.mp4"
    p.write_text(f"ffconcat version 1.0\nfile '{SAMPLE}'\nfile '/etc/passwd'\n")
    return p


def _too_long(tmp: Path) -> Path:
    """31 minutes of a 16x16 picture: cheap to make, over the free plan's 30 minutes."""
    p = tmp / "long.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=black:size=16x16:rate=1:duration=1860",
                "-c:v", "libx264", "-preset", "ultrafast", str(p)], timeout=120)
    return p


CASES = [
    ("corrupt", _corrupt, UNREADABLE),
    ("zero-length", _empty, "The file is empty (0 bytes)."),
    ("audio-only", lambda _t: MEDIA / "audio_only.m4a", "This file has sound but no picture; upload a video."),
    ("no sound", lambda _t: MEDIA / "no_audio_2s.mp4",
     "This video has no sound, so there is nothing to caption or clip. Upload a video with speech."),
    ("no speech", lambda _t: MEDIA / "silent_4s.mp4",
     "We could not find any speech in this video, so there is nothing to cut clips from. "
     "Clips are chosen from what people say: try a video where someone talks."),
    ("truncated", _truncated,
     "The file seems to be cut off: only 29 of its 91 seconds could be read. Please upload it again."),
    ("over the plan's length", _too_long, "The video is 31 minutes long; your plan allows up to 30 minutes."),
    ("hls playlist", _playlist, "Playlists and file lists are not accepted; upload the video file itself."),
    ("concat list named .mp4", _concat_as_mp4, UNREADABLE),
]


@pytest.fixture
async def worker_ctx() -> Any:
    ctx: dict[str, Any] = {}
    await startup(ctx)
    yield ctx
    await shutdown(ctx)


@pytest.mark.parametrize(("case", "make", "message"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_fails_clearly(case, make, message, committed, app_engine, worker_ctx, tmp_path) -> None:
    # given a stored file of this kind on a free workspace
    ws = await builders.workspace(committed)
    v = await builders.video(committed, ws, content=make(tmp_path))
    await committed.commit()
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id)
        job = await service.create_job(s, workspace_id=ws.id, type="video_process", video_id=v.id)
        await s.commit()
    # when the job runs
    result = await process_video(worker_ctx, str(job.id), str(ws.id))
    # then it failed with the message, for the job and the video, and nothing is left processing
    assert result == {"failed": message}
    video = (await committed.execute(select(Video).where(Video.id == v.id).execution_options(populate_existing=True))).scalar_one()
    row = (await committed.execute(select(Job).where(Job.id == job.id).execution_options(populate_existing=True))).scalar_one()
    assert (video.status, video.error_message) == ("failed", message)
    assert (row.status, row.error, row.attempts) == ("failed", message, 1)
    assert video.processing_completed_at is not None


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://localhost:8000/files/x.mp4",
                                 "http://10.0.0.7/internal.mp4"])
async def test_an_import_from_a_private_address_fails_clearly(url, committed, app_engine, worker_ctx) -> None:
    ws = await builders.workspace(committed)
    v = await builders.video(committed, ws, source_type="url", source_url=url, file_url=f"videos/{uuid.uuid4()}/source.mp4")
    await committed.commit()
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id)
        job = await service.create_job(s, workspace_id=ws.id, type="video_process", video_id=v.id)
        await s.commit()
    message = "This URL points to a private or local network address; only public web addresses can be imported."
    assert await process_video(worker_ctx, str(job.id), str(ws.id)) == {"failed": message}
    video = (await committed.execute(select(Video).where(Video.id == v.id).execution_options(populate_existing=True))).scalar_one()
    assert (video.status, video.error_message) == ("failed", message)
    assert not get_storage().exists(v.file_url)
