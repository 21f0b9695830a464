"""The worker registers exactly the arq functions the API enqueues, on the queues it enqueues them to."""

from __future__ import annotations

from arq.worker import Function

from clipflow_api.jobs.service import JOB_TYPES, functions_by_queue
from clipflow_worker.settings import WORKERS


def _registered() -> dict[str, set[str]]:
    """Every queue's registered function names (cron jobs are the worker's own, never enqueued)."""
    out: dict[str, set[str]] = {}
    for settings in WORKERS.values():
        names = out.setdefault(settings["queue_name"], set())
        for f in settings["functions"]:
            assert isinstance(f, Function), f"register {f!r} with arq.worker.func(..., name=...)"
            names.add(f.name)
    return out


def test_every_job_type_has_a_function_of_that_name_on_its_queue() -> None:
    registered = _registered()
    missing = {t: (s.queue, s.function) for t, s in JOB_TYPES.items() if s.function not in registered.get(s.queue, set())}
    assert missing == {}


def test_no_worker_function_is_unknown_to_the_api() -> None:
    enqueued = functions_by_queue()
    unknown = {q: names - enqueued.get(q, set()) for q, names in _registered().items() if names - enqueued.get(q, set())}
    assert unknown == {}


def test_each_queue_has_one_worker_and_names_are_unique() -> None:
    queues = [s["queue_name"] for s in WORKERS.values()]
    assert len(queues) == len(set(queues))
    for settings in WORKERS.values():
        names = [f.name for f in settings["functions"]]
        assert len(names) == len(set(names))


def test_the_registry_today() -> None:
    # given the product's job types, the media queue runs the two video functions and the post conform
    assert _registered() == {
        "clipflow:media": {"probe_video", "process_video", "conform_post_media"}, "clipflow:publish": {"publish_post"}, "clipflow:webhooks": set()
    }
    assert {t: (s.function, s.queue) for t, s in JOB_TYPES.items()} == {
        "video_probe": ("probe_video", "clipflow:media"), "video_process": ("process_video", "clipflow:media"),
        "post_conform": ("conform_post_media", "clipflow:media"),
    }
