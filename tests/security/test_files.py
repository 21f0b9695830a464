"""Issue 7, files: signed uploads for assets, library media and brand kits (7), URL import
deadlines (10), tus hardening (14), SSRF through IPv6 forms of IPv4 addresses (18c).

Everything goes through the real app over HTTP (``api``: the ASGI app in-process), the
worker through arq, and the importer against a local HTTP server that trickles bytes.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import GlobalID

from clipflow_api.config import Settings, get_settings
from clipflow_api.db import set_tenant
from clipflow_api.jobs import service as jobs
from clipflow_api.models import Asset, AuditLog, BrandKit, Job, User, UserMedia, Video
from clipflow_api.processing.importer import ImportRefused, download, is_public_address
from clipflow_api.storage import LocalStorage, get_storage
from clipflow_api.storage.workspace_files import new_upload_key
from clipflow_worker.tasks.maintenance import sweep_uploads
from tests.fixtures import builders
from tests.fixtures.worker import run_media_worker
from tests.graphql.conftest import Api, api, open_api  # noqa: F401 - fixtures

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "speech_15s.mp4"

UPLOAD = """mutation($p: FileUploadPurpose!, $n: String!, $t: String!, $s: Int!) {
  r: fileUploadCreate(input: {purpose: $p, filename: $n, contentType: $t, size: $s}) {
    upload { key url method headers expiresAt } errors { field code message } } }"""
KIT_CREATE = """mutation($w: String, $l: String) { r: brandKitCreate(input: {name: "Kit", watermarkUrl: $w, logoUrl: $l}) {
  brandKit { id watermarkUrl logoUrl } errors { field code message } } }"""
KIT_UPDATE = """mutation($id: ID!, $w: String) { r: brandKitUpdate(id: $id, input: {watermarkUrl: $w}) {
  brandKit { id watermarkUrl } errors { field code message } } }"""
ASSET_CREATE = """mutation($k: String!) { r: assetCreate(input: {name: "Logo", type: IMAGE, fileUrl: $k}) {
  asset { id fileUrl fileSizeBytes downloadUrl } errors { field code message } } }"""
MEDIA_CREATE = """mutation($k: String!) { r: userMediaCreate(input: {originalName: "logo.png", mimeType: "image/png",
  fileSize: 1, storageKey: $k, mediaType: IMAGE}) { userMedia { id storageKey fileSize publicUrl } errors { field code message } } }"""


# --- helpers ------------------------------------------------------------------------------

async def _paid_owner(db: AsyncSession) -> tuple[Any, str]:
    ws = await builders.workspace(db)
    await builders.subscribe(db, ws, plan="pro")
    owner = await db.get(User, ws.owner_id)
    token = await builders.token(db, owner)
    return ws, token


def _local(url: str) -> str:
    """The path and query of a signed URL (it names PUBLIC_BASE_URL; the test client talks to the app directly)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def _upload(api: Api, token: str, ws: Any, *, purpose: str = "BRAND_KIT", name: str = "mark.png",
                  content_type: str = "image/png", body: bytes = PNG) -> str:
    """The upload flow a client follows: ask for a URL, PUT the bytes there; returns the key."""
    r = (await api.gql(UPLOAD, {"p": purpose, "n": name, "t": content_type, "s": len(body)}, token=token, workspace=ws))["data"]["r"]
    assert r["errors"] == []
    put = await api.client.put(_local(r["upload"]["url"]), content=body, headers=r["upload"]["headers"])
    assert put.status_code == 201, put.text
    return r["upload"]["key"]


async def _count(db: AsyncSession, model: Any, ws: Any) -> int:
    return await db.scalar(select(func.count()).select_from(model).where(model.workspace_id == ws.id))


# --- 7: the signed upload flow ------------------------------------------------------------

async def test_the_upload_flow_works_end_to_end_and_links_are_signed_on_read(api: Api, committed) -> None:
    # given a paid workspace
    ws, token = await _paid_owner(committed)
    await committed.commit()
    # when it asks for an upload URL
    body = await api.gql(UPLOAD, {"p": "BRAND_KIT", "n": "../My Mark (final).PNG", "t": "image/png", "s": len(PNG)},
                         token=token, workspace=ws)
    upload = body["data"]["r"]["upload"]
    # then the key is under the workspace's prefix, with the name made safe, and the URL a signed PUT
    prefix = f"workspaces/{ws.id}/uploads/"
    assert upload["key"].startswith(prefix) and upload["key"].endswith("/My_Mark_final_.PNG")
    assert len(upload["key"][len(prefix):].split("/")[0]) == 32
    assert (upload["method"], upload["headers"]) == ("PUT", {"Content-Type": "image/png", "Content-Length": str(len(PNG))})
    assert urlsplit(upload["url"]).path == f"/files/{upload['key']}"
    # when the bytes are sent there and the kit points at the key
    put = await api.client.put(_local(upload["url"]), content=PNG, headers=upload["headers"])
    assert put.status_code == 201
    kit = (await api.gql(KIT_CREATE, {"w": upload["key"], "l": None}, token=token, workspace=ws))["data"]["r"]
    # then the kit is created, and its watermark reads back as a signed link that serves the bytes
    assert kit["errors"] == []
    assert kit["brandKit"]["logoUrl"] is None
    link = kit["brandKit"]["watermarkUrl"]
    assert urlsplit(link).path == f"/files/{upload['key']}" and "signature=" in link
    got = await api.client.get(_local(link))
    assert (got.status_code, got.content) == (200, PNG)
    row = (await committed.execute(select(BrandKit).where(BrandKit.workspace_id == ws.id))).scalar_one()
    assert row.watermark_url == upload["key"]
    # and an asset and a library file go the same way, recording the stored size
    asset_key = await _upload(api, token, ws, purpose="ASSET", name="logo.png")
    asset = (await api.gql(ASSET_CREATE, {"k": asset_key}, token=token, workspace=ws))["data"]["r"]
    assert asset["errors"] == []
    assert (asset["asset"]["fileUrl"], asset["asset"]["fileSizeBytes"]) == (asset_key, len(PNG))
    assert (await api.client.get(_local(asset["asset"]["downloadUrl"]))).content == PNG
    media_key = await _upload(api, token, ws, purpose="USER_MEDIA", name="logo.png")
    media = (await api.gql(MEDIA_CREATE, {"k": media_key}, token=token, workspace=ws))["data"]["r"]
    assert media["errors"] == []
    assert (media["userMedia"]["storageKey"], media["userMedia"]["fileSize"]) == (media_key, len(PNG))
    assert (await api.client.get(_local(media["userMedia"]["publicUrl"]))).content == PNG


async def test_another_workspaces_key_is_a_field_error_and_nothing_is_written(api: Api, committed) -> None:
    # given workspace A with a watermark it uploaded, and workspace B with a kit of its own
    ws_a, token_a = await _paid_owner(committed)
    ws_b, token_b = await _paid_owner(committed)
    await committed.commit()
    key_a = await _upload(api, token_a, ws_a)
    b_key = await _upload(api, token_b, ws_b)
    kit_b = (await api.gql(KIT_CREATE, {"w": b_key, "l": None}, token=token_b, workspace=ws_b))["data"]["r"]["brandKit"]
    audits = await committed.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.workspace_id == ws_b.id))
    missing = new_upload_key(ws_b.id, "never-sent.png")  # B's prefix, but no file was uploaded there
    legacy = f"brand/{ws_b.id}/mark.png"
    get_storage().put_file(legacy, SPEECH)  # exists, but not through the upload flow
    for foreign in (key_a, missing, legacy, f"workspaces/{ws_b.id}/uploads/../../{ws_a.id}/uploads/{key_a.split('/')[3]}/mark.png"):
        # when B points a new kit, its kit, an asset and a library file at it
        create = (await api.gql(KIT_CREATE, {"w": None, "l": foreign}, token=token_b, workspace=ws_b))["data"]["r"]
        update = (await api.gql(KIT_UPDATE, {"id": kit_b["id"], "w": foreign}, token=token_b, workspace=ws_b))["data"]["r"]
        asset = (await api.gql(ASSET_CREATE, {"k": foreign}, token=token_b, workspace=ws_b))["data"]["r"]
        media = (await api.gql(MEDIA_CREATE, {"k": foreign}, token=token_b, workspace=ws_b))["data"]["r"]
        # then each is a field error naming the field
        assert [(e["field"], e["code"]) for e in create["errors"]] == [("logoUrl", "INVALID")], foreign
        assert [(e["field"], e["code"]) for e in update["errors"]] == [("watermarkUrl", "INVALID")], foreign
        assert [(e["field"], e["code"]) for e in asset["errors"]] == [("fileUrl", "INVALID")], foreign
        assert [(e["field"], e["code"]) for e in media["errors"]] == [("storageKey", "INVALID")], foreign
        assert (create["brandKit"], update["brandKit"], asset["asset"], media["userMedia"]) == (None, None, None, None)
    # and nothing was written: one kit, still on B's own watermark, no asset, no library file, no audit entry
    kits = (await committed.execute(select(BrandKit).where(BrandKit.workspace_id == ws_b.id)
                                    .execution_options(populate_existing=True))).scalars().all()
    assert [(k.watermark_url, k.logo_url) for k in kits] == [(b_key, None)]
    assert (await _count(committed, Asset, ws_b), await _count(committed, UserMedia, ws_b)) == (0, 0)
    assert await committed.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.workspace_id == ws_b.id)) == audits


async def test_upload_requests_are_checked_against_purpose_permission_and_plan(api: Api, committed) -> None:

    ws, token = await _paid_owner(committed)
    _, viewer = await builders.member(committed, ws, "viewer")
    await committed.commit()
    cases = {
        ("BRAND_KIT", "clip.mp4", "video/mp4", 10): [("contentType", "INVALID")],
        ("ASSET", "page.html", "text/html", 10): [("contentType", "INVALID")],
        ("ASSET", "x.png", "image/png; charset=x", 10): [("contentType", "INVALID")],
    }
    for (purpose, name, ctype, size), wanted in cases.items():
        r = (await api.gql(UPLOAD, {"p": purpose, "n": name, "t": ctype, "s": size}, token=token, workspace=ws))["data"]["r"]
        assert ([(e["field"], e["code"]) for e in r["errors"]], r["upload"]) == (wanted, None), (purpose, ctype, size)
    # the free plan takes files up to 500 MB
    free = await builders.workspace(committed)
    free_token = await builders.token(committed, await committed.get(User, free.owner_id))
    await committed.commit()
    r = (await api.gql(UPLOAD, {"p": "USER_MEDIA", "n": "x.mp4", "t": "video/mp4", "s": 501 * 1024**2},
                       token=free_token, workspace=free))["data"]["r"]
    assert ([(e["field"], e["code"], e["message"]) for e in r["errors"]], r["upload"]) == (
        [("size", "PLAN_LIMIT_REACHED", "Your plan accepts files up to 500 MB.")], None)
    denied = await api.gql(UPLOAD, {"p": "ASSET", "n": "x.png", "t": "image/png", "s": 10}, token=viewer, workspace=ws)
    assert denied["data"] == {"r": None}
    assert [(e["extensions"]["code"], e["message"]) for e in denied["errors"]] == [
        ("PERMISSION_DENIED", "You need the asset:write permission to do this.")]
    root = Path(get_settings().storage_dir) / "workspaces" / str(ws.id)
    assert not root.exists()  # asking for URLs stores nothing


async def test_a_tampered_expired_or_mismatched_upload_is_refused(api: Api, committed) -> None:
    ws, token = await _paid_owner(committed)
    await committed.commit()
    r = (await api.gql(UPLOAD, {"p": "ASSET", "n": "a.png", "t": "image/png", "s": len(PNG)}, token=token, workspace=ws))["data"]["r"]
    key, url, headers = r["upload"]["key"], _local(r["upload"]["url"]), r["upload"]["headers"]
    path, query = url.split("?")
    q = {k: v[0] for k, v in parse_qs(query).items()}
    storage: LocalStorage = api.app.state.storage
    expired = storage.signed_upload_url(key, content_type="image/png", size=len(PNG), expires_in=-1)
    download_link = storage.signed_url(key)  # a download signature is no upload signature
    attempts = {
        "bad signature": (f"{path}?{urlencode({**q, 'signature': q['signature'][:-2] + 'AA'})}", headers, PNG, 403),
        "bigger size": (f"{path}?{urlencode({**q, 'size': 10**9})}", {**headers, "Content-Length": str(10**9)}, PNG, 403),
        "other type": (f"{path}?{urlencode({**q, 'type': 'text/html'})}", {**headers, "Content-Type": "text/html"}, PNG, 403),
        "later expiry": (f"{path}?{urlencode({**q, 'expires': int(q['expires']) + 3600})}", headers, PNG, 403),
        "other key": (f"/files/{new_upload_key(ws.id, 'a.png')}?{query}", headers, PNG, 403),
        "expired": (_local(expired), headers, PNG, 403),
        "download link": (_local(download_link), headers, PNG, 403),
        "wrong content type": (url, {**headers, "Content-Type": "text/html"}, PNG, 415),
        "short body": (url, {"Content-Type": "image/png"}, PNG[:-1], 411),
    }
    for name, (target, h, data, status) in attempts.items():
        got = await api.client.put(target, content=data, headers=h)
        assert got.status_code == status, (name, got.status_code, got.text)
    assert not storage.exists(key)
    # then the genuine request stores it, once
    assert (await api.client.put(url, content=PNG, headers=headers)).status_code == 201
    again = await api.client.put(url, content=b"x" * len(PNG), headers=headers)
    assert again.status_code == 409
    with storage.local_copy(key) as stored:
        assert stored.read_bytes() == PNG


async def test_the_upload_flow_on_s3_is_a_presigned_put(committed, s3_endpoint: str) -> None:
    import httpx

    ws, token = await _paid_owner(committed)
    other, other_token = await _paid_owner(committed)
    await committed.commit()
    settings = get_settings().model_copy(update={
        "storage_backend": "s3", "s3_endpoint_url": s3_endpoint, "s3_bucket": "clipflow-files-test",
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing"})
    async with open_api(settings) as api:
        # given an upload URL: a presigned S3 PUT signing the content type and length
        r = (await api.gql(UPLOAD, {"p": "ASSET", "n": "logo.png", "t": "image/png", "s": len(PNG)}, token=token, workspace=ws))["data"]["r"]
        url, key = r["upload"]["url"], r["upload"]["key"]
        assert url.startswith(f"{s3_endpoint}/clipflow-files-test/{key}?")
        assert parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
        # a key not sent yet is refused
        early = (await api.gql(ASSET_CREATE, {"k": key}, token=token, workspace=ws))["data"]["r"]
        assert [(e["field"], e["code"]) for e in early["errors"]] == [("fileUrl", "INVALID")]
        # when the client PUTs the bytes to S3 itself
        async with httpx.AsyncClient() as s3:
            put = await s3.put(url, content=PNG, headers=r["upload"]["headers"])
        assert put.status_code == 200
        # then the asset can point at it, and its link is a presigned download of the bytes
        asset = (await api.gql(ASSET_CREATE, {"k": key}, token=token, workspace=ws))["data"]["r"]
        assert (asset["errors"], asset["asset"]["fileSizeBytes"]) == ([], len(PNG))
        async with httpx.AsyncClient() as s3:
            assert (await s3.get(asset["asset"]["downloadUrl"])).content == PNG
        # and another workspace cannot
        stolen = (await api.gql(ASSET_CREATE, {"k": key}, token=other_token, workspace=other))["data"]["r"]
        assert [(e["field"], e["code"]) for e in stolen["errors"]] == [("fileUrl", "INVALID")]
    assert await _count(committed, Asset, other) == 0


async def test_the_worker_refuses_a_foreign_key_that_a_row_holds(api: Api, committed, app_engine, arq_pool, redis) -> None:
    # given workspace A's uploaded watermark, and B's default brand kit pointing at it (written
    # directly, past the API's checks)
    ws_a, token_a = await _paid_owner(committed)
    ws_b, _ = await _paid_owner(committed)
    await committed.commit()
    key_a = await _upload(api, token_a, ws_a)
    committed.add(BrandKit(workspace_id=ws_b.id, name="Stolen", is_default=True, watermark_url=key_a))
    video = await builders.video(committed, ws_b)
    await committed.commit()
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws_b.id)
        job = await jobs.create_job(s, workspace_id=ws_b.id, type="video_process", video_id=video.id, input_data={})
        await jobs.commit_and_enqueue(s, arq_pool)
    # when the media worker runs B's job
    await run_media_worker()
    # then the job failed, saying why, before any file was read; the video is not left processing
    row = (await committed.execute(select(Job).where(Job.id == job.id).execution_options(populate_existing=True))).scalar_one()
    assert (row.status, row.error) == (
        "failed", "The brand kit's watermark is not a file uploaded to this workspace; upload it again and choose it anew.")
    v = (await committed.execute(select(Video).where(Video.id == video.id).execution_options(populate_existing=True))).scalar_one()
    assert v.status == "failed"


# --- 14: tus ------------------------------------------------------------------------------

def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


async def _tus_create(api: Api, token: str, ws: Any, length: int) -> Any:
    return await api.client.post("/uploads", headers={
        "Authorization": f"Bearer {token}", "X-Workspace-Id": str(ws.id), "Tus-Resumable": "1.0.0",
        "Upload-Length": str(length), "Upload-Metadata": f"filename {_b64('talk.mp4')}"})


async def test_concurrent_final_patches_make_exactly_one_video(api: Api, committed) -> None:
    # given an upload of the whole file
    ws, token = await _paid_owner(committed)
    await committed.commit()
    data = SPEECH.read_bytes()
    created = await _tus_create(api, token, ws, len(data))
    assert created.status_code == 201
    headers = {"Authorization": f"Bearer {token}", "X-Workspace-Id": str(ws.id), "Tus-Resumable": "1.0.0",
               "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}

    async def trickled():  # the body in pieces, so the four requests overlap while they stream
        for i in range(0, len(data), len(data) // 8 + 1):
            yield data[i:i + len(data) // 8 + 1]
            await asyncio.sleep(0.01)

    # when four clients send the final (here: only) piece at the same time
    results = await asyncio.gather(*(api.client.patch(created.headers["Location"], content=trickled(), headers=headers)
                                     for _ in range(4)))
    # then one finished the upload, the others found it gone; exactly one video and one job exist
    assert sorted(r.status_code for r in results) == [204, 404, 404, 404]
    (done,) = [r for r in results if r.status_code == 204]
    videos = (await committed.execute(select(Video).where(Video.workspace_id == ws.id))).scalars().all()
    assert [str(GlobalID("Video", str(v.id))) for v in videos] == [done.headers["ClipFlow-Video-Id"]]
    assert await _count(committed, Job, ws) == 1


async def test_open_uploads_are_capped_per_user(committed, tmp_path) -> None:
    ws, token = await _paid_owner(committed)
    await committed.commit()
    settings = get_settings().model_copy(update={"upload_max_open_per_user": 2, "upload_dir": tmp_path})
    async with open_api(settings) as api:
        first, second = [await _tus_create(api, token, ws, 1000) for _ in range(2)]
        assert (first.status_code, second.status_code) == (201, 201)
        # a third is refused while two are open, in a tus response, with nothing written
        third = await _tus_create(api, token, ws, 1000)
        assert (third.status_code, third.headers["Tus-Resumable"], third.text) == (
            429, "1.0.0", "You have 2 unfinished uploads; finish or cancel one (DELETE) before starting another.")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(r.headers["Location"].rsplit("/", 1)[1] for r in (first, second))
        # cancelling one frees a slot
        gone = await api.client.delete(first.headers["Location"], headers={"Authorization": f"Bearer {token}",
                                                                            "X-Workspace-Id": str(ws.id), "Tus-Resumable": "1.0.0"})
        assert gone.status_code == 204
        assert (await _tus_create(api, token, ws, 1000)).status_code == 201


async def test_stale_parts_and_state_are_swept_by_the_cron_and_at_startup(committed, tmp_path) -> None:
    ws, token = await _paid_owner(committed)
    await committed.commit()
    settings = get_settings().model_copy(update={"upload_dir": tmp_path, "upload_stale_hours": 1})
    auth = {"Authorization": f"Bearer {token}", "X-Workspace-Id": str(ws.id), "Tus-Resumable": "1.0.0"}
    async with open_api(settings) as api:
        stale, fresh = [(await _tus_create(api, token, ws, 1000)).headers["Location"] for _ in range(2)]
        old = time.time() - 2 * 3600
        os.utime(tmp_path / stale.rsplit("/", 1)[1], (old, old))
        # when the worker's cron sweeper runs
        assert await sweep_uploads({"redis": api.app.state.redis, "settings": settings}) == 1
        # then the idle upload is gone, bytes and state, and the active one is untouched
        assert (await api.client.head(stale, headers=auth)).status_code == 404
        assert (await api.client.head(fresh, headers=auth)).status_code == 200
        assert [p.name for p in tmp_path.iterdir()] == [fresh.rsplit("/", 1)[1]]
        # and the swept one no longer counts against the cap
        assert await api.app.state.redis.zcard(f"clipflow:uploads-open:{ws.owner_id}") == 1
    # a part left behind with no state (its API process died) is swept when the API starts
    orphan = tmp_path / uuid.uuid4().hex
    orphan.write_bytes(b"partial")
    os.utime(orphan, (old, old))
    async with open_api(settings):
        assert not orphan.exists()
        assert (tmp_path / fresh.rsplit("/", 1)[1]).exists()


def test_the_upload_folder_defaults_outside_the_package() -> None:
    import clipflow_api

    package = Path(clipflow_api.__file__).resolve().parent
    default = Settings(_env_file=None, storage_dir=Path("/var/lib/clipflow/storage")).upload_path
    assert default == Path("/var/lib/clipflow/uploads")
    built_in = Settings(_env_file=None, storage_dir=Settings.model_fields["storage_dir"].default).upload_path
    assert built_in.name == "uploads" and not built_in.resolve().is_relative_to(package)
    assert not Settings(_env_file=None).upload_path.resolve().is_relative_to(package)
    assert Settings(_env_file=None, upload_dir=Path("/srv/parts")).upload_path == Path("/srv/parts")


# --- 10: URL import deadlines -------------------------------------------------------------

ALLOW = [ipaddress.ip_network("127.0.0.2/32")]


@pytest.fixture
async def trickle_server():
    """An HTTP server on 127.0.0.2 that announces 1 MB and sends ``rate`` bytes per 50 ms."""
    rates: dict[str, int] = {"/slow": 10, "/steady": 4000}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ")[1].decode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 1000000\r\n\r\n")
        try:
            for _ in range(10_000):
                writer.write(b"x" * rates[path])
                await writer.drain()
                await asyncio.sleep(0.05)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.2", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.2:{port}"
    server.close()


async def test_a_slow_loris_server_is_cut_off_by_the_minimum_rate(trickle_server: str, tmp_path) -> None:
    dest = tmp_path / "v.mp4"
    started = time.monotonic()
    # 200 bytes/s against a minimum of 1000/s after a 0.5 s grace; the read timeout alone would never fire
    with pytest.raises(ImportRefused) as refused:
        await download(f"{trickle_server}/slow", dest, max_bytes=10**7, timeout=60, allow=ALLOW,
                       total_timeout=60, min_rate_bps=1000, min_rate_grace_s=0.5)
    assert str(refused.value) == ("The server sent the video too slowly (under 1 kB/s), so the download was stopped; "
                                  "use a faster link to the file.")
    assert time.monotonic() - started < 3
    assert not dest.exists()


async def test_a_download_past_its_total_deadline_is_cut_off(trickle_server: str, tmp_path) -> None:
    dest = tmp_path / "v.mp4"
    started = time.monotonic()
    # 80 kB/s is above the minimum rate, but the file would take 12 s against a 1.5 s deadline
    with pytest.raises(ImportRefused) as refused:
        await download(f"{trickle_server}/steady", dest, max_bytes=10**7, timeout=60, allow=ALLOW,
                       total_timeout=1.5, min_rate_bps=1000, min_rate_grace_s=0.5)
    assert str(refused.value) == "The download took longer than 1.5 seconds, so it was stopped; use a faster link to the file."
    assert 1.4 < time.monotonic() - started < 3
    assert not dest.exists()


def test_the_worker_takes_the_import_limits_from_settings() -> None:
    s = Settings(_env_file=None, import_total_timeout_s=90, import_min_rate_bps=5000, import_min_rate_grace_s=7)
    assert (s.import_total_timeout_s, s.import_min_rate_bps, s.import_min_rate_grace_s) == (90, 5000, 7)
    defaults = Settings(_env_file=None)
    assert (defaults.import_total_timeout_s, defaults.import_min_rate_bps, defaults.import_min_rate_grace_s) == (1800, 20_000, 30)


# --- 18c: IPv6 forms of private IPv4 addresses --------------------------------------------

@pytest.mark.parametrize("address", [
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2002:c0a8:101::",  # 6to4 of 192.168.1.1
    "fec0::1",  # site-local
    "fec0:1::a",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
])
def test_ipv6_forms_of_private_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808"])  # 6to4 / NAT64 of 8.8.8.8
def test_ipv6_forms_of_public_addresses_are_decided_by_the_ipv4_address(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize("host", ["[2002:7f00:1::1]", "[fec0::1]", "[64:ff9b::7f00:1]"])
async def test_an_import_url_with_such_an_address_is_refused_before_connecting(host: str, tmp_path) -> None:
    with pytest.raises(ImportRefused) as refused:
        await download(f"http://{host}:8080/video.mp4", tmp_path / "v.mp4", max_bytes=10**6)
    assert str(refused.value) == "This URL points to a private or local network address; only public web addresses can be imported."
    assert not (tmp_path / "v.mp4").exists()
