"""tus over a real server: a PATCH dropped midway keeps what arrived (tus core's recommendation),
so a client that sends the whole file in one PATCH can resume; and what is not a video is
refused from its first bytes, nothing kept."""

from __future__ import annotations

import asyncio
import logging
import uuid
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import GlobalID

from clipflow_api.config import get_settings
from clipflow_api.models import Video
from clipflow_api.processing.sniff import REFUSED_MESSAGE
from clipflow_api.storage import get_storage
from tests.graphql.conftest import server  # noqa: F401 - fixture
from tests.processing.test_uploads import SPEECH, _b64, signed_up  # noqa: F401 - fixture

PATCH = "application/offset+octet-stream"


async def _wait_for(check, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_dropped_patch_keeps_its_bytes_and_the_upload_resumes(  # noqa: F811
    server, signed_up, owner_engine, caplog,  # noqa: ANN001
) -> None:
    user, auth_headers = signed_up
    data = SPEECH.read_bytes()
    sent = 60_000  # of 115,640
    base = "http://" + urlsplit(server).netloc
    host, port = urlsplit(server).hostname, urlsplit(server).port
    async with httpx.AsyncClient(base_url=base) as client:
        created = await client.post("/uploads", headers={**auth_headers, "Upload-Length": str(len(data)),
                                                         "Upload-Metadata": f"filename {_b64('talk.mp4')}"})
        assert created.status_code == 201
        url = created.headers["Location"]
        part = get_settings().upload_path / url.rsplit("/", 1)[1]
        caplog.set_level(logging.INFO)

        # given a client sending the whole file in one PATCH, whose connection drops after `sent` bytes
        reader, writer = await asyncio.open_connection(host, port)
        head = (f"PATCH {url} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {auth_headers['Authorization']}\r\n"
                f"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: {PATCH}\r\n"
                f"Content-Length: {len(data)}\r\n\r\n")
        writer.write(head.encode() + data[:sent])
        await writer.drain()

        async def all_written() -> bool:
            return part.stat().st_size == sent

        await _wait_for(all_written)  # the server has written what it received
        writer.transport.abort()  # the connection drops (no more bytes, no response read)

        # then HEAD reports the bytes received as the offset
        async def offset_recorded() -> bool:
            r = await client.head(url, headers=auth_headers)
            return r.headers["Upload-Offset"] == str(sent)

        await _wait_for(offset_recorded)
        r = await client.head(url, headers=auth_headers)
        assert (r.status_code, r.headers["Upload-Offset"], r.headers["Upload-Length"]) == (200, str(sent), str(len(data)))

        # and the resume from there completes the upload
        r = await client.patch(url, content=data[sent:], headers={**auth_headers, "Content-Type": PATCH,
                                                                  "Upload-Offset": str(sent)})
        assert (r.status_code, r.headers["Upload-Offset"]) == (204, str(len(data)))
    video_gid = GlobalID.from_id(r.headers["ClipFlow-Video-Id"])
    assert video_gid.type_name == "Video"
    async with AsyncSession(owner_engine) as s:
        video = (await s.execute(select(Video).where(Video.id == uuid.UUID(video_gid.node_id)))).scalar_one()
    with get_storage().local_copy(video.file_url) as stored:
        assert stored.read_bytes() == data  # byte for byte the original
    assert (video.file_size_bytes, video.uploaded_by) == (len(data), user.id)
    # the drop was logged as an ordinary event, without a traceback
    drops = [rec for rec in caplog.records if "client disconnected" in rec.getMessage()]
    assert [(rec.levelno, rec.exc_info) for rec in drops] == [(logging.INFO, None)]
    assert drops[0].getMessage().endswith(f"at byte {sent} of {len(data)}; kept for resumption")
    assert not [rec for rec in caplog.records if rec.exc_info], [rec.getMessage() for rec in caplog.records if rec.exc_info]


async def test_what_is_not_a_video_is_refused_from_its_first_bytes(server, signed_up, owner_engine) -> None:  # noqa: F811
    user, auth_headers = signed_up
    base = "http://" + urlsplit(server).netloc
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 4000
    async with httpx.AsyncClient(base_url=base) as client:
        # a client announcing an image is refused at creation
        announced = await client.post("/uploads", headers={
            **auth_headers, "Upload-Length": str(len(png)),
            "Upload-Metadata": f"filename {_b64('cat.png')},filetype {_b64('image/png')}"})
        assert (announced.status_code, announced.text) == (415, REFUSED_MESSAGE)
        # one announcing nothing (or a video) is refused at its first bytes
        created = await client.post("/uploads", headers={
            **auth_headers, "Upload-Length": str(len(png)),
            "Upload-Metadata": f"filename {_b64('cat.mp4')},filetype {_b64('video/mp4')}"})
        assert created.status_code == 201
        url = created.headers["Location"]
        refused = await client.patch(url, content=png, headers={**auth_headers, "Content-Type": PATCH, "Upload-Offset": "0"})
        assert (refused.status_code, refused.text) == (415, REFUSED_MESSAGE)
        # and nothing is kept: the upload is gone, its bytes deleted, no video
        gone = await client.head(url, headers=auth_headers)
        assert gone.status_code == 404
    assert not (get_settings().upload_path / url.rsplit("/", 1)[1]).exists()
    async with AsyncSession(owner_engine) as s:
        assert await s.scalar(select(func.count()).select_from(Video).where(Video.uploaded_by == user.id)) == 0



def test_sniffing_knows_the_containers_ffmpeg_writes_and_nothing_else(tmp_path) -> None:  # noqa: ANN001
    import subprocess

    from clipflow_api.processing.sniff import SNIFF_BYTES, media_container
    from clipflow_worker.pipeline.ffmpeg import ffmpeg_binary

    # given real files: a third of a second of tone and colour in every container we accept, and two images
    expected = {"mp4": "mp4", "mov": "mp4", "m4a": "mp4", "mkv": "matroska", "webm": "matroska", "avi": "avi",
                "ts": "mpegts", "mpg": "mpegps", "flv": "flv", "ogg": "ogg", "wmv": "asf", "wav": "wav",
                "mp3": "mpeg-audio", "flac": "flac", "png": None, "gif": None}
    for ext in expected:
        av = ["-f", "lavfi", "-i", "sine=d=0.3", "-f", "lavfi", "-i", "color=s=32x32:d=0.3", "-shortest"]
        image = ["-f", "lavfi", "-i", "color=s=32x32", "-frames:v", "1"]
        args = image if ext in ("png", "gif") else av
        subprocess.run([ffmpeg_binary(), "-v", "error", "-y", *args, str(tmp_path / f"f.{ext}")], check=True, timeout=30)
    # then each is recognised by its first bytes, or refused
    found = {ext: media_container((tmp_path / f"f.{ext}").read_bytes()[:SNIFF_BYTES]) for ext in expected}
    assert found == expected
    # and so are files that only look like text or documents (a "G" is not an MPEG-TS sync byte on its own)
    for other in (b"%PDF-1.7\n" + b"0" * 300, b"Hello world " * 30, b"GIF89a" + b"\0" * 300, b"G", b""):
        assert media_container(other[:SNIFF_BYTES]) is None, other[:10]
