"""Resumable uploads (tus 1.0): create, send in pieces, resume after a drop, finish into a video + job."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import GlobalID

from clipflow_api.app import create_app
from clipflow_api.auth import service as auth
from clipflow_api.config import get_settings
from clipflow_api.models import Job, Video


SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "speech_15s.mp4"


def _uuid_of(global_id: str, type_name: str) -> uuid.UUID:
    gid = GlobalID.from_id(global_id)
    assert gid.type_name == type_name
    return uuid.UUID(gid.node_id)


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


@pytest.fixture
async def api(redis):
    app = create_app(get_settings())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as client:
            yield client


@pytest.fixture
async def signed_up(app_engine, owner_engine):
    email = f"up-{uuid.uuid4().hex[:8]}@example.com"
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        user, token = await auth.sign_up(s, email=email, password="correct horse battery staple", name="Uploader")
        await s.commit()
    yield user, {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    async with AsyncSession(owner_engine) as s:
        await s.execute(text("DELETE FROM workspaces WHERE owner_id = :u"), {"u": user.id})
        await s.execute(text("DELETE FROM users WHERE id = :u"), {"u": user.id})
        await s.commit()


async def test_upload_in_pieces_with_a_resume_becomes_a_video(api, signed_up, owner_engine) -> None:
    user, auth_headers = signed_up
    data = SPEECH.read_bytes()
    # create
    r = await api.post("/uploads", headers={**auth_headers, "Upload-Length": str(len(data)),
                                            "Upload-Metadata": f"filename {_b64('talk.mp4')},title {_b64('My talk')}"})
    assert r.status_code == 201 and r.headers["Upload-Offset"] == "0"
    url = r.headers["Location"]
    patch_headers = {**auth_headers, "Content-Type": "application/offset+octet-stream"}
    # first piece
    r = await api.patch(url, content=data[:40_000], headers={**patch_headers, "Upload-Offset": "0"})
    assert (r.status_code, r.headers["Upload-Offset"]) == (204, "40000")
    # a client that lost track sends at the wrong offset: refused, told the right one
    r = await api.patch(url, content=data[10:20], headers={**patch_headers, "Upload-Offset": "10"})
    assert (r.status_code, r.headers["Upload-Offset"]) == (409, "40000")
    # resume from HEAD
    r = await api.head(url, headers=auth_headers)
    assert (r.headers["Upload-Offset"], r.headers["Upload-Length"]) == ("40000", str(len(data)))
    r = await api.patch(url, content=data[40_000:], headers={**patch_headers, "Upload-Offset": "40000"})
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))
    video_id, job_id = _uuid_of(r.headers["ClipFlow-Video-Id"], "Video"), _uuid_of(r.headers["ClipFlow-Job-Id"], "Job")
    # then the video and its pending processing job exist, with the bytes stored intact
    async with AsyncSession(owner_engine) as s:
        video = (await s.execute(select(Video).where(Video.id == video_id))).scalar_one()
        job = (await s.execute(select(Job).where(Job.id == job_id))).scalar_one()
    assert (video.title, video.source_type, video.file_size_bytes, video.uploaded_by) == ("My talk", "upload", len(data), user.id)
    assert (job.type, job.video_id, job.status, job.input_data["style"]) == ("video_process", video_id, "pending", "hormozi")
    from clipflow_api.storage import get_storage

    with get_storage().local_copy(video.file_url) as stored:
        assert stored.read_bytes() == data
    assert not (get_settings().upload_path / url.rsplit("/", 1)[1]).exists()


async def test_refusals(api, signed_up) -> None:
    _, auth_headers = signed_up
    # no credentials
    r = await api.post("/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10"})
    assert r.status_code == 403
    # over the free plan's 500 MB
    r = await api.post("/uploads", headers={**auth_headers, "Upload-Length": str(501 * 1024 * 1024)})
    assert (r.status_code, r.text) == (413, "The file is 501 MB; your plan accepts up to 500 MB.")
    # not tus
    r = await api.post("/uploads", headers={"Authorization": auth_headers["Authorization"], "Upload-Length": "10"})
    assert r.status_code == 412
    # someone else's (or an unknown) upload is not found
    r = await api.head(f"/uploads/{uuid.uuid4().hex}", headers=auth_headers)
    assert r.status_code == 404
    # more bytes than announced
    r = await api.post("/uploads", headers={**auth_headers, "Upload-Length": "4"})
    url = r.headers["Location"]
    r = await api.patch(url, content=b"12345", headers={**auth_headers, "Upload-Offset": "0",
                                                          "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 413
    r = await api.head(url, headers=auth_headers)
    assert r.headers["Upload-Offset"] == "0"
    # termination
    assert (await api.delete(url, headers=auth_headers)).status_code == 204
    assert (await api.head(url, headers=auth_headers)).status_code == 404
