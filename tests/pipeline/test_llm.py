"""LLM refinement against a local server that speaks the OpenAI and Anthropic HTTP protocols.

The server checks each request as the real APIs would (path, auth header, model, message
roles, required fields) and answers 400/401 otherwise, so a malformed request shows up as
a fallback in these tests rather than passing silently.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from clipflow_worker.pipeline.llm import SYSTEM_PROMPT, LLMConfig, arefine_clips, refine_clips
from clipflow_worker.pipeline.types import ClipCandidate

OPENAI_KEY = "sk-test-123"
ANTHROPIC_KEY = "sk-ant-test-456"
TRANSCRIPT = "Why do most startups fail? It is the team. Here is the truth nobody wants to hear."


@dataclass
class Behaviour:
    """What the fake provider answers next."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    finish_reason: str = "stop"
    raw_body: bytes | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)


class ProviderHandler(BaseHTTPRequestHandler):
    server: ProviderServer

    def log_message(self, *_: Any) -> None:  # keep pytest output clean
        return None

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        behaviour = self.server.behaviour
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        behaviour.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if behaviour.delay:
            time.sleep(behaviour.delay)
        if self.path == "/v1/chat/completions":
            self._openai(body, behaviour)
        elif self.path == "/v1/messages":
            self._anthropic(body, behaviour)
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def _openai(self, body: dict[str, Any], b: Behaviour) -> None:
        if self.headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
            return self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
        problem = _openai_problem(body, self.headers.get("Content-Type", ""))
        if problem:
            return self._send(400, {"error": {"message": problem, "type": "invalid_request_error"}})
        if b.raw_body is not None or b.status != 200:
            return self._send(b.status, None, b.raw_body)
        self._send(200, {
            "id": "chatcmpl-9x8y7z",
            "object": "chat.completion",
            "created": 1_763_900_000,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": b.content}, "finish_reason": b.finish_reason}],
            "usage": {"prompt_tokens": 812, "completion_tokens": 96, "total_tokens": 908},
        })

    def _anthropic(self, body: dict[str, Any], b: Behaviour) -> None:
        if self.headers.get("x-api-key") != ANTHROPIC_KEY:
            return self._send(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
        problem = _anthropic_problem(body, self.headers)
        if problem:
            return self._send(400, {"type": "error", "error": {"type": "invalid_request_error", "message": problem}})
        if b.raw_body is not None or b.status != 200:
            return self._send(b.status, None, b.raw_body)
        self._send(200, {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": b.content}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 812, "output_tokens": 96},
        })

    def _send(self, status: int, payload: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _openai_problem(body: dict[str, Any], content_type: str) -> str | None:
    if not content_type.startswith("application/json"):
        return "Content-Type must be application/json"
    if body.get("model") != "gpt-test":
        return f"The model {body.get('model')!r} does not exist"
    messages = body.get("messages")
    if not isinstance(messages, list) or [m.get("role") for m in messages] != ["system", "user"]:
        return "messages must be a system then a user message"
    if messages[0]["content"] != SYSTEM_PROMPT or "Candidate clips:" not in messages[1]["content"]:
        return "unexpected prompt"
    if body.get("response_format") != {"type": "json_object"} or not isinstance(body.get("max_tokens"), int):
        return "response_format json_object and max_tokens are required here"
    return None


def _anthropic_problem(body: dict[str, Any], headers: Any) -> str | None:
    if headers.get("anthropic-version") != "2023-06-01":
        return "anthropic-version header is required"
    if body.get("model") != "claude-test":
        return f"model: {body.get('model')!r} not found"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    if body.get("system") != SYSTEM_PROMPT:
        return "system prompt missing"
    messages = body.get("messages")
    if not isinstance(messages, list) or [m.get("role") for m in messages] != ["user"]:
        return "messages: roles must alternate, starting with user"
    return None


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour


@pytest.fixture(scope="module")
def server() -> Iterator[ProviderServer]:
    srv = ProviderServer(("127.0.0.1", 0), ProviderHandler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def provider(server: ProviderServer) -> Behaviour:
    server.behaviour = Behaviour()
    return server.behaviour


def base_url(server: ProviderServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def openai(server: ProviderServer, **kw: Any) -> LLMConfig:
    return LLMConfig(base_url=base_url(server), api_key=OPENAI_KEY, model="gpt-test", provider="openai", **kw)


def anthropic(server: ProviderServer, **kw: Any) -> LLMConfig:
    return LLMConfig(base_url=base_url(server), api_key=ANTHROPIC_KEY, model="claude-test", provider="anthropic", **kw)


def candidates() -> list[ClipCandidate]:
    return [
        ClipCandidate(0.0, 20.0, "Why do most startups fail", "Why do most startups fail? It is the team.",
                      hook_score=80, engagement_score=70, virality_score=76, keywords=["startups"], reasons=["opens with a question"]),
        ClipCandidate(40.0, 62.0, "Here is the truth", "Here is the truth nobody wants to hear.",
                      hook_score=50, engagement_score=60, virality_score=55, keywords=["truth"], reasons=["strong words up front"]),
    ]


REPLY = {
    "clips": [
        {"id": 0, "title": "Startups don't die of money", "hook_score": 90, "engagement_score": 20, "virality_score": 70,
         "reason": "Strong question, but the answer comes late."},
        {"id": 1, "title": "The truth\nnobody wants to hear", "hook_score": 88.6, "engagement_score": 75, "virality_score": 100,
         "reason": "Contrarian claim."},
    ]
}


def test_openai_reply_retitles_shifts_scores_within_bounds_and_reranks(server: ProviderServer, provider: Behaviour) -> None:
    # given
    provider.content = json.dumps(REPLY)
    original = candidates()

    # when
    refined = refine_clips(original, TRANSCRIPT, openai(server))

    # then clip 1 moved up: its virality rose by at most 20 (55 -> 75), clip 0's fell by 6
    assert [c.title for c in refined] == ["The truth nobody wants to hear", "Startups don't die of money"]
    assert [(c.hook_score, c.engagement_score, c.virality_score) for c in refined] == [(70, 75, 75), (90, 50, 70)]
    assert refined[0].reasons == ["strong words up front", "editor: Contrarian claim."]
    assert (refined[1].start, refined[1].end, refined[1].keywords) == (0.0, 20.0, ["startups"])
    # and the request was one chat completion carrying the transcript and both clips
    (request,) = provider.requests
    user = request["body"]["messages"][1]["content"]
    assert TRANSCRIPT in user
    clips_json = json.loads(user.split("Candidate clips:\n", 1)[1].split("\n\n", 1)[0])
    assert [c["id"] for c in clips_json] == [0, 1]
    assert clips_json[1] == {"id": 1, "start": 40.0, "end": 62.0, "title": "Here is the truth", "text": "Here is the truth nobody wants to hear.",
                             "hook_score": 50, "engagement_score": 60, "virality_score": 55}
    # and the caller's list was not touched
    assert [c.to_dict() for c in original] == [c.to_dict() for c in candidates()]


def test_anthropic_reply_is_applied_the_same_way(server: ProviderServer, provider: Behaviour) -> None:
    provider.content = json.dumps(REPLY)

    refined = refine_clips(candidates(), TRANSCRIPT, anthropic(server))

    assert [c.title for c in refined] == ["The truth nobody wants to hear", "Startups don't die of money"]
    (request,) = provider.requests
    assert request["path"] == "/v1/messages"
    assert request["headers"]["anthropic-version"] == "2023-06-01"


def test_a_base_url_ending_in_v1_and_a_fenced_reply_are_accepted(server: ProviderServer, provider: Behaviour) -> None:
    provider.content = "```json\n" + json.dumps({"clips": [REPLY["clips"][0]]}) + "\n```"
    config = LLMConfig(base_url=base_url(server) + "/v1/", api_key=OPENAI_KEY, model="gpt-test")

    refined = refine_clips(candidates(), TRANSCRIPT, config)

    assert provider.requests[0]["path"] == "/v1/chat/completions"
    # only clip 0 was refined; clip 1 keeps its local title and scores
    assert [(c.title, c.virality_score) for c in refined] == [("Startups don't die of money", 70), ("Here is the truth", 55)]


def _reply(**clip0: Any) -> str:
    return json.dumps({"clips": [{**REPLY["clips"][0], **clip0}]})


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        (dict(content="Sure! Here are better titles: ..."), "the reply is not JSON"),
        (dict(content=_reply(hook_score=101)), "hook_score 101 is outside 0-100"),
        (dict(content=_reply(virality_score=-1)), "virality_score -1 is outside 0-100"),
        (dict(content=_reply(engagement_score=True)), "engagement_score is not a number"),
        (dict(content=_reply(engagement_score="90")), "engagement_score is not a number"),
        (dict(content=_reply(id=2)), "unknown clip id 2"),
        (dict(content=_reply(title="   ")), "title must have 1 to 100 characters"),
        (dict(content=_reply(title="x" * 101)), "title must have 1 to 100 characters"),
        (dict(content=json.dumps({"clips": [REPLY["clips"][0], REPLY["clips"][0]]})), "clip 0 appears twice"),
        (dict(content=json.dumps({"titles": []})), 'the reply has no "clips" list'),
        (dict(content=json.dumps(REPLY), finish_reason="length"), "cut off at max_tokens"),
        (dict(status=500, raw_body=b'{"error": {"message": "The server had an error"}}'), "HTTP 500"),
        (dict(raw_body=b"<html>502 Bad Gateway</html>"), "the response body is not JSON"),
    ],
)
def test_any_bad_reply_keeps_the_local_result(
    server: ProviderServer, provider: Behaviour, caplog: pytest.LogCaptureFixture, setup: dict[str, Any], why: str
) -> None:
    for key, value in setup.items():
        setattr(provider, key, value)

    with caplog.at_level(logging.WARNING, logger="clipflow_worker.pipeline.llm"):
        refined = refine_clips(candidates(), TRANSCRIPT, openai(server))

    assert [c.to_dict() for c in refined] == [c.to_dict() for c in candidates()]
    assert len(provider.requests) == 1
    assert why in caplog.text


def test_a_wrong_key_is_refused_by_the_server_and_falls_back(server: ProviderServer, provider: Behaviour, caplog: pytest.LogCaptureFixture) -> None:
    config = LLMConfig(base_url=base_url(server), api_key="sk-wrong", model="gpt-test")

    with caplog.at_level(logging.WARNING):
        refined = refine_clips(candidates(), TRANSCRIPT, config)

    assert [c.title for c in refined] == ["Why do most startups fail", "Here is the truth"]
    assert "HTTP 401" in caplog.text and "sk-wrong" not in caplog.text


def test_a_slow_provider_times_out_and_falls_back(server: ProviderServer, provider: Behaviour, caplog: pytest.LogCaptureFixture) -> None:
    provider.content = json.dumps(REPLY)
    provider.delay = 1.0

    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        refined = refine_clips(candidates(), TRANSCRIPT, openai(server, timeout=0.2))

    assert time.monotonic() - started < 0.9
    assert [c.title for c in refined] == ["Why do most startups fail", "Here is the truth"]
    assert "timed out" in caplog.text


def test_an_unreachable_provider_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    # port 9 (discard) on loopback: nothing listens there, the connection is refused
    config = LLMConfig(base_url="http://127.0.0.1:9", api_key=OPENAI_KEY, model="gpt-test", timeout=2.0)

    with caplog.at_level(logging.WARNING):
        refined = refine_clips(candidates(), TRANSCRIPT, config)

    assert [c.title for c in refined] == ["Why do most startups fail", "Here is the truth"]
    assert "LLM refinement skipped" in caplog.text


async def test_async_refinement_uses_the_same_protocol(server: ProviderServer, provider: Behaviour) -> None:
    provider.content = json.dumps(REPLY)

    async with httpx.AsyncClient() as client:
        refined = await arefine_clips(candidates(), TRANSCRIPT, anthropic(server), client=client)

    assert [c.virality_score for c in refined] == [75, 70]
    assert provider.requests[0]["body"]["model"] == "claude-test"


def test_no_candidates_make_no_request(server: ProviderServer, provider: Behaviour) -> None:
    assert refine_clips([], TRANSCRIPT, openai(server)) == []
    assert provider.requests == []


def test_the_config_never_shows_its_key() -> None:
    assert OPENAI_KEY not in repr(LLMConfig(base_url="http://x", api_key=OPENAI_KEY, model="m"))


def test_the_refiner_is_built_only_from_complete_settings(server: ProviderServer, provider: Behaviour) -> None:
    from clipflow_worker.pipeline.llm import llm_refiner
    from clipflow_worker.pipeline.types import Segment, Transcript, Word

    assert llm_refiner(None, base_url(server), OPENAI_KEY, "gpt-test") is None
    assert llm_refiner("openai", base_url(server), None, "gpt-test") is None
    with pytest.raises(ValueError, match="Unknown LLM provider 'gemini'"):
        llm_refiner("gemini", base_url(server), OPENAI_KEY, "gpt-test")
    provider.content = json.dumps(REPLY)
    refine = llm_refiner("openai", base_url(server), OPENAI_KEY, "gpt-test")
    transcript = Transcript("en", 62.0, (Segment(0.0, 1.0, TRANSCRIPT, (Word(TRANSCRIPT.split()[0], 0.0, 1.0),)),))
    refined = refine(candidates(), transcript)
    assert [c.title for c in refined] == ["The truth nobody wants to hear", "Startups don't die of money"]
    assert TRANSCRIPT in provider.requests[0]["body"]["messages"][1]["content"]
