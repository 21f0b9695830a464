"""What subscriptions read through clipflow_api.jobs.service, as the app role (RLS on), and the job registry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.errors import NotFound
from clipflow_api.jobs import service
from clipflow_api.workspaces import service as workspaces
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders


async def _workspace(db: AsyncSession):
    owner = await builders.user(db)
    ws = await workspaces.create_workspace(db, owner_id=owner.id, name="Jobs")
    await use_tenant(db, ws.id, owner.id)
    return ws


async def test_get_job_sees_its_workspace_only(app_db: AsyncSession) -> None:
    ws = await _workspace(app_db)
    job = await builders.job(app_db, ws, progress=40, progress_message="Transcribing")
    assert (await service.get_job(app_db, job.id)).progress_message == "Transcribing"
    # another workspace's job looks like a missing one
    other = await _workspace(app_db)
    for job_id in (job.id, uuid.uuid4()):
        with pytest.raises(NotFound) as err:
            await service.get_job(app_db, job_id)
        assert (err.value.code, err.value.message, err.value.field) == ("NOT_FOUND", "No such job.", "job_id")
    assert other.id != ws.id


async def test_video_progress_speaks_through_the_newest_job(app_db: AsyncSession) -> None:
    ws = await _workspace(app_db)
    video = await builders.video(app_db, ws, status="transcribing", processing_progress=35)
    # given no job yet
    state = await service.video_progress(app_db, video.id)
    assert state == service.VideoProgress(
        video_id=video.id, status="transcribing", progress=35, error=None, last_job_id=None, last_job_message=None,
        last_job_updated_at=None,
    )
    # given two jobs, the newer one's words count
    await builders.job(app_db, ws, video_id=video.id, type="video_probe", progress_message="Probed",
                       created_at=datetime(2026, 1, 1, tzinfo=UTC))
    newest = await builders.job(app_db, ws, video_id=video.id, type="video_process", progress_message="Finding clips")
    state = await service.video_progress(app_db, video.id)
    assert (state.last_job_id, state.last_job_message) == (newest.id, "Finding clips")
    assert state.last_job_updated_at is not None


async def test_a_deleted_or_foreign_video_is_not_found(app_db: AsyncSession) -> None:
    ws = await _workspace(app_db)
    deleted = await builders.video(app_db, ws, deleted_at=datetime.now(UTC))
    kept = await builders.video(app_db, ws)
    await _workspace(app_db)
    for video_id in (deleted.id, kept.id, uuid.uuid4()):
        with pytest.raises(NotFound) as err:
            await service.video_progress(app_db, video_id)
        assert (err.value.message, err.value.field) == ("No such video.", "video_id")


def test_functions_by_queue_follow_the_job_types() -> None:
    assert service.functions_by_queue() == {
        service.MEDIA_QUEUE: {service.PROBE_VIDEO, service.PROCESS_VIDEO, service.CONFORM_POST_MEDIA},
        service.PUBLISH_QUEUE: {service.PUBLISH_POST},
    }


def test_arq_job_id_of_a_bare_id_needs_the_type() -> None:
    job_id = uuid.uuid4()
    assert service.arq_job_id(job_id, "video_process") == f"process_video:{job_id}"
    assert service.arq_job_id(job_id, "video_probe", rerun_after=2) == f"probe_video:{job_id}:rerun-2"
    with pytest.raises(service.UnknownJobType):
        service.arq_job_id(job_id)
