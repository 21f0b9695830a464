"""Getting videos in over GraphQL: a multipart upload (CSRF-guarded, size-capped), a URL
import, a re-run of the clip engine, and signed download links. Real database, Redis and
local storage; the worker is not running, so jobs stay pending."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select

from clipflow_api.config import get_settings
from clipflow_api.jobs.service import MEDIA_QUEUE, arq_job_id
from clipflow_api.models import AuditLog, Caption, Job, Subscription, SubscriptionPlan, Video
from clipflow_api.storage import verify_local_signature
from tests.fixtures import builders
from tests.graphql.conftest import Api, gid

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "speech_15s.mp4"
SAMPLE = SAMPLE_PATH.read_bytes()

UPLOAD = """mutation($file: Upload!, $input: VideoUploadInput) { r: videoUpload(file: $file, input: $input) {
  video { id title status sourceType fileSizeBytes } job { id type status progress } errors { field code message } } }"""
IMPORT = """mutation($input: VideoImportInput!) { r: videoImport(input: $input) {
  video { id title status sourceType sourceUrl } job { id type status } errors { field code message } } }"""
PROCESS = """mutation($input: VideoProcessInput!) { r: videoProcess(input: $input) {
  video { id status processingProgress } job { id type status } errors { field code message } } }"""


@pytest.fixture
async def editor(committed):  # noqa: ANN001, ANN201
    """A workspace and an editor's token in it."""
    ws = await builders.workspace(committed)
    _, token = await builders.member(committed, ws, "editor")
    await committed.commit()
    return ws, token


async def _counts(db: Any, ws: Any) -> dict[str, int]:
    counts = {}
    for name, model in (("videos", Video), ("jobs", Job), ("audit", AuditLog)):
        counts[name] = await db.scalar(select(func.count()).select_from(model).where(model.workspace_id == ws.id))
    return counts


def _stored_files(api: Api) -> set[str]:
    root = api.app.state.storage.root
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _uuid(global_id: str) -> uuid.UUID:
    from clipflow_api.graphql.relay import parse_global_id

    return parse_global_id(global_id)[1]


# --- videoUpload ---------------------------------------------------------------------------

async def test_upload_stores_the_file_and_queues_a_job_after_commit(api: Api, committed, editor) -> None:  # noqa: ANN001
    ws, token = editor
    # when an editor uploads the sample as a GraphQL multipart request
    body = await api.upload(
        UPLOAD, {"file": None, "input": {"title": "  Team talk ", "style": "BOLD", "maxClips": 3}},
        {"variables.file": ("speech_15s.mp4", SAMPLE, "video/mp4")}, token=token, workspace=ws,
    )
    # then a pending video and a pending job come back
    assert body["_status"] == 200 and body.get("errors") is None, body
    r = body["data"]["r"]
    assert r["errors"] == []
    assert {k: v for k, v in r["video"].items() if k != "id"} == {
        "title": "Team talk", "status": "PENDING", "sourceType": "UPLOAD", "fileSizeBytes": float(len(SAMPLE)),
    }
    assert {k: v for k, v in r["job"].items() if k != "id"} == {"type": "video_process", "status": "PENDING", "progress": 0}
    video_id, job_id = _uuid(r["video"]["id"]), _uuid(r["job"]["id"])
    # and the stored bytes are the file's
    video = await committed.get(Video, video_id)
    assert video.file_url == f"videos/{video_id}/source.mp4"
    assert api.app.state.storage.path(video.file_url).read_bytes() == SAMPLE
    # and the job carries the options, and was handed to arq (after the commit)
    job = await committed.get(Job, job_id)
    assert (job.video_id, job.workspace_id, job.input_data) == (
        video_id, ws.id, {"style": "bold", "max_clips": 3, "min_duration": 15.0, "max_duration": 60.0}
    )
    assert await api.app.state.redis.zscore(MEDIA_QUEUE, arq_job_id(job_id, "video_process")) is not None
    # and one audit entry says who uploaded what
    audit = (await committed.execute(select(AuditLog).where(AuditLog.resource_id == video_id))).scalars().all()
    assert [(a.action, a.details["filename"], a.details["job_id"]) for a in audit] == [("video.upload", "speech_15s.mp4", str(job_id))]


async def test_multipart_without_a_preflight_header_is_refused(api: Api, committed, editor) -> None:  # noqa: ANN001
    ws, token = editor
    before, files_before = await _counts(committed, ws), _stored_files(api)
    # a cross-site form post cannot set a custom header: without one the request is refused
    body = await api.upload(UPLOAD, {"file": None}, {"variables.file": ("a.mp4", SAMPLE, "video/mp4")},
                            token=token, workspace=ws, preflight=False)
    assert body["_status"] == 400
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]
    assert "apollo-require-preflight" in body["errors"][0]["message"]
    # and nothing was created or stored
    assert await _counts(committed, ws) == before
    assert _stored_files(api) == files_before
    # while Apollo's other preflight header is accepted
    ok = await api.upload(UPLOAD, {"file": None}, {"variables.file": ("clip.mov", SAMPLE, "video/quicktime")},
                          token=token, workspace=ws, preflight=False, headers={"x-apollo-operation-name": "Upload"})
    assert ok["data"]["r"]["errors"] == [] and ok["data"]["r"]["video"]["title"] == "clip"


async def test_a_file_passed_as_json_is_refused(api: Api, committed, editor) -> None:  # noqa: ANN001
    ws, token = editor
    before = await _counts(committed, ws)
    body = await api.gql(UPLOAD, {"file": "not a file"}, token=token, workspace=ws)
    assert body["data"]["r"] == {"video": None, "job": None,
                                 "errors": [{"field": "file", "code": "INVALID", "message": "Send the file as a multipart upload."}]}
    assert await _counts(committed, ws) == before


async def test_a_file_over_the_plan_limit_creates_nothing(api: Api, committed, editor) -> None:  # noqa: ANN001
    ws, token = editor
    # given the workspace owner's plan accepts uploads up to 0 MB
    plan = SubscriptionPlan(name=f"tiny-{uuid.uuid4().hex[:8]}", display_name="Tiny", price_monthly=Decimal(0),
                            videos_per_month=1, max_video_duration=60, export_quality="720p", social_accounts=1,
                            team_members=5, storage_gb=1, features={"max_upload_mb": 0}, is_active=False)
    committed.add(plan)
    await committed.flush()
    await builders.subscribe(committed, ws, plan.name)
    await committed.commit()
    try:
        before, files_before = await _counts(committed, ws), _stored_files(api)
        # when the editor uploads the sample
        body = await api.upload(UPLOAD, {"file": None}, {"variables.file": ("a.mp4", SAMPLE, "video/mp4")}, token=token, workspace=ws)
        # then the payload says why, and nothing was created or stored
        assert body["data"]["r"] == {"video": None, "job": None, "errors": [
            {"field": "file", "code": "FILE_TOO_LARGE", "message": "The file is 0 MB; your plan accepts up to 0 MB."}
        ]}
        assert await _counts(committed, ws) == before
        assert _stored_files(api) == files_before
    finally:
        await committed.execute(Subscription.__table__.delete().where(Subscription.plan_id == plan.id))
        await committed.delete(plan)
        await committed.commit()


def _multipart(boundary: str, operations: dict, file: bytes) -> bytes:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{json.dumps(operations)}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{json.dumps({"0": ["variables.file"]})}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    )
    return head.encode() + file + f"\r\n--{boundary}--\r\n".encode()


async def test_bodies_over_the_largest_plan_limit_are_cut_off(api: Api, committed, editor, monkeypatch) -> None:  # noqa: ANN001
    from clipflow_api.graphql.uploads import UploadLimit

    ws, token = editor

    async def small(self, session_factory):  # noqa: ANN001, ANN202
        return 64 * 1024  # as if the largest plan took 64 KiB: the 113 KiB sample is over it

    monkeypatch.setattr(UploadLimit, "bytes", small)
    before, files_before = await _counts(committed, ws), _stored_files(api)
    boundary = "clipflowtestboundary"
    body = _multipart(boundary, {"query": UPLOAD, "variables": {"file": None}}, SAMPLE)
    headers = {"authorization": f"Bearer {token}", "x-workspace-id": str(ws.id), "apollo-require-preflight": "1",
               "content-type": f"multipart/form-data; boundary={boundary}"}
    # a declared Content-Length over the cap is refused before reading the body
    declared = await api.client.post("/graphql", content=body, headers=headers)
    # a chunked body (no length) is cut off once it grows past the cap

    async def chunks():  # noqa: ANN202
        for i in range(0, len(body), 16 * 1024):
            yield body[i:i + 16 * 1024]

    streamed = await api.client.post("/graphql", content=chunks(), headers=headers)
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["errors"] == [{
            "message": "The request is larger than the largest upload accepted (0 MB).", "extensions": {"code": "FILE_TOO_LARGE"},
        }]
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert await _counts(committed, ws) == before
    assert _stored_files(api) == files_before


async def test_anonymous_multipart_is_refused_before_the_body_is_read(api: Api, committed, editor) -> None:  # noqa: ANN001
    ws, _ = editor
    before, files_before = await _counts(committed, ws), _stored_files(api)
    body = await api.upload(UPLOAD, {"file": None}, {"variables.file": ("a.mp4", SAMPLE, "video/mp4")})
    assert body["_status"] == 401
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("Sign in and choose a workspace to upload files.", "UNAUTHENTICATED")
    ]
    assert await _counts(committed, ws) == before
    assert _stored_files(api) == files_before


async def test_uploading_needs_video_write(api: Api, committed) -> None:  # noqa: ANN001
    ws = await builders.workspace(committed)
    _, token = await builders.member(committed, ws, "viewer")
    await committed.commit()
    before = await _counts(committed, ws)
    body = await api.upload(UPLOAD, {"file": None}, {"variables.file": ("a.mp4", SAMPLE, "video/mp4")}, token=token, workspace=ws)
    assert body["data"] == {"r": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PERMISSION_DENIED"]
    assert await _counts(committed, ws) == before


# --- videoImport ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("url", "field", "code", "message"),
    [
        ("ftp://example.com/talk.mp4", "url", "INVALID_URL", "Give an http(s) link to a video file."),
        ("file:///etc/passwd", "url", "INVALID_URL", "Give an http(s) link to a video file."),
        ("https://", "url", "INVALID_URL", "Give an http(s) link to a video file."),
        ("   ", "url", "REQUIRED", "This field is required."),
    ],
)
async def test_import_refuses_links_that_are_not_http(api: Api, committed, editor, url, field, code, message) -> None:  # noqa: ANN001
    ws, token = editor
    before = await _counts(committed, ws)
    body = await api.gql(IMPORT, {"input": {"url": url}}, token=token, workspace=ws)
    assert body["data"]["r"] == {"video": None, "job": None, "errors": [{"field": field, "code": code, "message": message}]}
    assert await _counts(committed, ws) == before


async def test_import_records_the_video_and_queues_the_download(api: Api, committed, editor) -> None:  # noqa: ANN001
    ws, token = editor
    url = "https://videos.example.com/talks/keynote.mp4"
    body = await api.gql(IMPORT, {"input": {"url": url, "maxClips": 2, "minDuration": 20, "maxDuration": 40}}, token=token, workspace=ws)
    r = body["data"]["r"]
    assert r["errors"] == []
    assert {k: v for k, v in r["video"].items() if k != "id"} == {"title": "keynote", "status": "PENDING", "sourceType": "URL", "sourceUrl": url}
    job = await committed.get(Job, _uuid(r["job"]["id"]))
    assert job.input_data == {"style": "hormozi", "max_clips": 2, "min_duration": 20.0, "max_duration": 40.0}
    assert await api.app.state.redis.zscore(MEDIA_QUEUE, arq_job_id(job.id, "video_process")) is not None
    # and bad clip options are the input's fault, with nothing created
    before = await _counts(committed, ws)
    bad = await api.gql(IMPORT, {"input": {"url": url, "maxClips": 0}}, token=token, workspace=ws)
    # (refused at the edge, before the resolver: the range is declared on the input type)
    assert bad["data"] is None
    assert [(e["extensions"], e["message"]) for e in bad["errors"]] == [
        ({"code": "BAD_REQUEST", "field": "input.maxClips"}, "`input.maxClips` must be between 1 and 50 (got 0).")
    ]
    assert await _counts(committed, ws) == before


# --- videoProcess --------------------------------------------------------------------------

async def test_process_is_refused_while_a_job_runs_then_queues_a_new_run(api: Api, committed, editor) -> None:  # noqa: ANN001
    ws, token = editor
    # given an uploaded video whose first job is still pending
    video_id = uuid.uuid4()
    video = await builders.video(committed, ws, id=video_id, file_url=f"videos/{video_id}/source.mp4", status="completed",
                             processing_progress=100)
    first = Job(workspace_id=ws.id, type="video_process", video_id=video.id, status="pending")
    committed.add(first)
    await committed.commit()
    before = await _counts(committed, ws)
    # when it is asked to be processed again
    busy = await api.gql(PROCESS, {"input": {"videoId": gid("Video", video.id)}}, token=token, workspace=ws)
    # then it is refused, saying why, and nothing changed
    assert busy["data"]["r"] == {"video": None, "job": None, "errors": [{
        "field": "videoId", "code": "CONFLICT", "message": "This video is already being processed; wait until it finishes, then try again.",
    }]}
    assert await _counts(committed, ws) == before
    await committed.refresh(video)
    assert (video.status, video.processing_progress) == ("completed", 100)
    # and once that job is done, a new run is queued with the new options and the video is pending again
    first.status = "completed"
    await committed.commit()
    done = await api.gql(PROCESS, {"input": {"videoId": gid("Video", video.id), "style": "KARAOKE", "maxClips": 8}},
                         token=token, workspace=ws)
    r = done["data"]["r"]
    assert r["errors"] == [] and r["video"]["status"] == "PENDING" and r["video"]["processingProgress"] == 0
    assert {k: v for k, v in r["job"].items() if k != "id"} == {"type": "video_process", "status": "PENDING"}
    job = await committed.get(Job, _uuid(r["job"]["id"]))
    assert (job.video_id, job.input_data) == (video.id, {"style": "karaoke", "max_clips": 8, "min_duration": 15.0, "max_duration": 60.0})
    assert await api.app.state.redis.zscore(MEDIA_QUEUE, arq_job_id(job.id, "video_process")) is not None
    assert await _counts(committed, ws) == {**before, "jobs": before["jobs"] + 1, "audit": before["audit"] + 1}


async def test_process_refuses_typed_in_keys_and_other_workspaces_videos(api: Api, committed, editor) -> None:  # noqa: ANN001
    ws, token = editor
    # a video recorded with a typed-in key (videoCreate) could point at anyone's file
    typed = await builders.video(committed, ws, file_url=f"videos/{uuid.uuid4()}/source.mp4")
    other = await builders.video(committed, await builders.workspace(committed))
    await committed.commit()
    before = await _counts(committed, ws)
    for video, field, code in ((typed, "videoId", "INVALID"), (other, "videoId", "NOT_FOUND")):
        body = await api.gql(PROCESS, {"input": {"videoId": gid("Video", video.id)}}, token=token, workspace=ws)
        assert [(e["field"], e["code"]) for e in body["data"]["r"]["errors"]] == [(field, code)]
    assert await _counts(committed, ws) == before


# --- signed links --------------------------------------------------------------------------

SIGNED = """query($v: ID!, $c: ID!, $x: ID!, $p: ID!) {
  v: node(id: $v) { ... on Video { downloadUrl thumbnailUrl fileUrl } }
  c: node(id: $c) { ... on Clip { thumbnailUrl downloadUrls { format url } captions { srtUrl vttUrl } } }
  x: node(id: $x) { ... on Video { downloadUrl thumbnailUrl } }
  p: node(id: $p) { ... on Video { downloadUrl thumbnailUrl } }
}"""


def _check_signed(url: str, key: str) -> tuple[str, str]:
    parts = urlsplit(url)
    assert parts.path == f"/files/{key}"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    expires = int(query["expires"])
    assert time.time() + 3590 <= expires <= time.time() + 3610
    assert verify_local_signature(get_settings().secret_key, unquote(parts.path[len("/files/"):]), expires, query["signature"])
    return parts.path, parts.query


async def test_download_links_are_signed_and_never_raw_keys(api: Api, committed) -> None:  # noqa: ANN001
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    video_id = uuid.uuid4()
    video = await builders.video(committed, ws, id=video_id, file_url=f"videos/{video_id}/source.mp4",
                             thumbnail_url=f"videos/{video_id}/thumbnail.jpg", file_size_bytes=len(SAMPLE))
    clip = await builders.clip(committed, video)
    clip.file_urls = {"9:16": f"clips/{clip.id}/9x16.mp4", "1:1": f"clips/{clip.id}/1x1.mp4", "16:9": f"clips/{clip.id}/../../videos/x.mp4"}
    clip.thumbnail_url = f"clips/{clip.id}/thumbnail.jpg"
    committed.add(Caption(workspace_id=ws.id, clip_id=clip.id, style="bold", words=[],
                          srt_url=f"clips/{clip.id}/captions.srt", vtt_url=f"clips/{clip.id}/captions.vtt"))
    # a key typed in by a client, naming some other video's file: never signed
    foreign = await builders.video(committed, ws, file_url=f"videos/{video_id}/source.mp4", thumbnail_url="https://evil.example/x.jpg",
                               file_size_bytes=1)
    # an import the worker has not downloaded yet: nothing to link to
    pending = await builders.video(committed, ws, source_type="url", source_url="https://example.com/a.mp4")
    await committed.commit()
    api.app.state.storage.put_file(video.file_url, SAMPLE_PATH)

    body = await api.gql(SIGNED, {"v": gid("Video", video.id), "c": gid("Clip", clip.id), "x": gid("Video", foreign.id),
                                  "p": gid("Video", pending.id)}, token=token, workspace=ws)
    assert body.get("errors") is None, body
    v, c = body["data"]["v"], body["data"]["c"]
    # then every link is a signed URL of the key the database holds
    download = _check_signed(v["downloadUrl"], video.file_url)
    _check_signed(v["thumbnailUrl"], video.thumbnail_url)
    _check_signed(c["thumbnailUrl"], clip.thumbnail_url)
    assert [d["format"] for d in c["downloadUrls"]] == ["1:1", "9:16"]  # the "../" key is not signed
    for d in c["downloadUrls"]:
        _check_signed(d["url"], clip.file_urls[d["format"]])
    _check_signed(c["captions"][0]["srtUrl"], f"clips/{clip.id}/captions.srt")
    _check_signed(c["captions"][0]["vttUrl"], f"clips/{clip.id}/captions.vtt")
    assert v["fileUrl"] == video.file_url  # the deprecated raw key is still there for old clients
    assert body["data"]["x"] == body["data"]["p"] == {"downloadUrl": None, "thumbnailUrl": None}
    # and the signed link serves the file, while a tampered one is refused
    path, query = download
    served = await api.client.get(f"{path}?{query}")
    assert served.status_code == 200 and served.content == SAMPLE
    tampered = await api.client.get(f"{path}?{query.replace('signature=', 'signature=x')}")
    assert tampered.status_code == 403
