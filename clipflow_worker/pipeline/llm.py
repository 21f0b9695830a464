"""Optional LLM pass over the chosen clips: better titles and bounded score adjustments.

Speaks either the OpenAI chat-completions protocol (``POST /v1/chat/completions``, which
vLLM, Ollama, LiteLLM and most gateways also serve) or the Anthropic messages protocol
(``POST /v1/messages``). The model must answer with one JSON object; anything else (an
HTTP error, a timeout, text that is not that JSON, a score out of range, an unknown clip
id) leaves the local result untouched and logs a warning. Refinement is a nicety, so it
never fails a job.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from .types import ClipCandidate, Transcript

log = logging.getLogger(__name__)

Provider = Literal["openai", "anthropic"]

SYSTEM_PROMPT = (
    "You are an editor who picks and titles short vertical clips cut from long talks. "
    "You receive the talk's transcript and candidate clips with scores from 0 to 100: "
    "hook (do the first three seconds grab attention?), engagement (does it hold attention "
    "to the end?) and virality (how likely it is to be shared). For every clip, write a "
    "title of at most 60 characters in the speaker's language that makes people want to "
    "watch, and give your own three scores. Reply with one JSON object and nothing else, "
    'shaped exactly like {"clips": [{"id": 0, "title": "...", "hook_score": 0, '
    '"engagement_score": 0, "virality_score": 0, "reason": "one short sentence"}]}.'
)

SCORE_FIELDS = ("hook_score", "engagement_score", "virality_score")
MAX_TITLE_CHARS = 100
MAX_REASON_CHARS = 300
_CLIP_TEXT_CHARS = 800  # per clip in the prompt: enough to judge it, cheap in tokens


@dataclass(frozen=True)
class LLMConfig:
    base_url: str  # server root, e.g. "https://api.openai.com" ("/v1" at the end is tolerated)
    api_key: str
    model: str
    provider: Provider = "openai"
    timeout: float = 30.0
    max_tokens: int = 1024
    temperature: float = 0.2
    max_shift: int = 20  # the most the LLM may move any local score, in points
    max_transcript_chars: int = 12_000
    anthropic_version: str = "2023-06-01"

    def __repr__(self) -> str:  # keeps the key out of logs and tracebacks
        return f"LLMConfig(provider={self.provider!r}, base_url={self.base_url!r}, model={self.model!r})"


class LLMResponseError(ValueError):
    """The reply was not the JSON we asked for (bad shape, bad id, score out of range)."""


@dataclass(frozen=True)
class Refinement:
    id: int
    title: str
    hook_score: int
    engagement_score: int
    virality_score: int
    reason: str = ""


def refine_clips(
    candidates: Sequence[ClipCandidate],
    transcript_text: str,
    config: LLMConfig,
    *,
    client: httpx.Client | None = None,
) -> list[ClipCandidate]:
    """Ask the LLM for titles and scores; on any failure return copies of ``candidates`` unchanged."""
    if not candidates:
        return []
    url, headers, body = build_request(config, candidates, transcript_text)
    try:
        if client is None:
            with httpx.Client(timeout=config.timeout, follow_redirects=False) as own:
                response = own.post(url, headers=headers, json=body)
        else:
            response = client.post(url, headers=headers, json=body, timeout=config.timeout)
        return _apply_response(response, candidates, config)
    except (httpx.HTTPError, LLMResponseError) as exc:
        return _fallback(candidates, exc)


async def arefine_clips(
    candidates: Sequence[ClipCandidate],
    transcript_text: str,
    config: LLMConfig,
    *,
    client: httpx.AsyncClient | None = None,
) -> list[ClipCandidate]:
    """``refine_clips`` for async callers (arq jobs), with the same fallback rules."""
    if not candidates:
        return []
    url, headers, body = build_request(config, candidates, transcript_text)
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=config.timeout, follow_redirects=False) as own:
                response = await own.post(url, headers=headers, json=body)
        else:
            response = await client.post(url, headers=headers, json=body, timeout=config.timeout)
        return _apply_response(response, candidates, config)
    except (httpx.HTTPError, LLMResponseError) as exc:
        return _fallback(candidates, exc)


def _apply_response(response: httpx.Response, candidates: Sequence[ClipCandidate], config: LLMConfig) -> list[ClipCandidate]:
    if response.status_code != 200:
        raise LLMResponseError(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        payload = response.json()
    except ValueError as exc:
        raise LLMResponseError("the response body is not JSON") from exc
    text = reply_text(config.provider, payload)
    refinements = parse_refinements(text, len(candidates))
    return apply_refinements(candidates, refinements, config.max_shift)


def _fallback(candidates: Sequence[ClipCandidate], exc: Exception) -> list[ClipCandidate]:
    log.warning("LLM refinement skipped, keeping the local titles and scores: %s", exc)
    return [_copy(c) for c in candidates]


# --------------------------------------------------------------------------------------
# Request


def build_request(config: LLMConfig, candidates: Sequence[ClipCandidate], transcript_text: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """URL, headers and JSON body for the configured protocol."""
    root = config.base_url.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    user = user_prompt(candidates, transcript_text, config.max_transcript_chars)
    if config.provider == "openai":
        return (
            f"{root}/v1/chat/completions",
            {"Authorization": f"Bearer {config.api_key}", "Content-Type": "application/json"},
            {
                "model": config.model,
                "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}],
                "temperature": config.temperature,
                "max_tokens": config.max_tokens,
                "response_format": {"type": "json_object"},
            },
        )
    if config.provider == "anthropic":
        return (
            f"{root}/v1/messages",
            {"x-api-key": config.api_key, "anthropic-version": config.anthropic_version, "content-type": "application/json"},
            {
                "model": config.model,
                "system": SYSTEM_PROMPT,
                "messages": [{"role": "user", "content": user}],
                "temperature": config.temperature,
                "max_tokens": config.max_tokens,
            },
        )
    raise ValueError(f"Unknown LLM provider {config.provider!r}; use 'openai' or 'anthropic'.")


def user_prompt(candidates: Sequence[ClipCandidate], transcript_text: str, max_transcript_chars: int) -> str:
    """The user message: the transcript (shortened for long talks) and the clips as JSON."""
    transcript = transcript_text.strip()
    if len(transcript) > max_transcript_chars:
        transcript = transcript[:max_transcript_chars].rsplit(" ", 1)[0] + " [...]"
    clips = [
        {
            "id": i,
            "start": round(c.start, 1),
            "end": round(c.end, 1),
            "title": c.title,
            "text": c.text[:_CLIP_TEXT_CHARS],
            "hook_score": c.hook_score,
            "engagement_score": c.engagement_score,
            "virality_score": c.virality_score,
        }
        for i, c in enumerate(candidates)
    ]
    return (
        f"Transcript:\n{transcript}\n\n"
        f"Candidate clips:\n{json.dumps(clips, ensure_ascii=False)}\n\n"
        "Answer with the JSON object only."
    )


# --------------------------------------------------------------------------------------
# Response


def reply_text(provider: Provider, payload: Any) -> str:
    """The assistant's text out of a chat-completions or messages response body."""
    try:
        if provider == "openai":
            choice = payload["choices"][0]
            if choice.get("finish_reason") == "length":
                raise LLMResponseError("the reply was cut off at max_tokens")
            content = choice["message"]["content"]
        else:
            if payload.get("stop_reason") == "max_tokens":
                raise LLMResponseError("the reply was cut off at max_tokens")
            content = "".join(block["text"] for block in payload["content"] if block.get("type") == "text")
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise LLMResponseError(f"unexpected {provider} response shape") from exc
    if not isinstance(content, str) or not content.strip():
        raise LLMResponseError("the reply is empty")
    return content


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def parse_refinements(text: str, n_candidates: int) -> dict[int, Refinement]:
    """Validate the model's JSON; any violation rejects the whole reply.

    One bad field suggests the model misunderstood the task, so its other values are not
    trusted either. A code fence around the JSON is tolerated (models add them even when
    told not to); anything else around it is not.
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise LLMResponseError(f"the reply is not JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("clips"), list):
        raise LLMResponseError('the reply has no "clips" list')
    out: dict[int, Refinement] = {}
    for item in data["clips"]:
        refinement = _refinement(item, n_candidates)
        if refinement.id in out:
            raise LLMResponseError(f"clip {refinement.id} appears twice")
        out[refinement.id] = refinement
    return out


def _refinement(item: Any, n_candidates: int) -> Refinement:
    if not isinstance(item, dict):
        raise LLMResponseError("a clip entry is not an object")
    clip_id = item.get("id")
    # bool is an int subclass: "id": true must not pass as clip 1.
    if not isinstance(clip_id, int) or isinstance(clip_id, bool) or not 0 <= clip_id < n_candidates:
        raise LLMResponseError(f"unknown clip id {clip_id!r}")
    title = item.get("title")
    if not isinstance(title, str):
        raise LLMResponseError(f"clip {clip_id}: title is not a string")
    title = " ".join(title.split())  # newlines or tabs in a title would break captions and UIs
    if not 0 < len(title) <= MAX_TITLE_CHARS:
        raise LLMResponseError(f"clip {clip_id}: title must have 1 to {MAX_TITLE_CHARS} characters")
    scores = {name: _score(item.get(name), clip_id, name) for name in SCORE_FIELDS}
    reason = item.get("reason", "")
    if not isinstance(reason, str):
        raise LLMResponseError(f"clip {clip_id}: reason is not a string")
    return Refinement(id=clip_id, title=title, reason=" ".join(reason.split())[:MAX_REASON_CHARS], **scores)


def _score(value: Any, clip_id: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LLMResponseError(f"clip {clip_id}: {name} is not a number")
    if not 0 <= value <= 100:
        raise LLMResponseError(f"clip {clip_id}: {name} {value} is outside 0-100")
    return int(round(value))


def apply_refinements(candidates: Sequence[ClipCandidate], refinements: dict[int, Refinement], max_shift: int) -> list[ClipCandidate]:
    """New titles, scores moved toward the LLM's by at most ``max_shift``, re-ranked by virality.

    The local scores come from measurable signals; the bound keeps one confident model
    reply from overturning them, while still letting it reorder close calls.
    """
    refined: list[tuple[int, ClipCandidate]] = []
    for i, clip in enumerate(candidates):
        r = refinements.get(i)
        if r is None:
            refined.append((i, _copy(clip)))
            continue
        scores = {name: _shift(getattr(clip, name), getattr(r, name), max_shift) for name in SCORE_FIELDS}
        reasons = [*clip.reasons, f"editor: {r.reason}"] if r.reason else list(clip.reasons)
        refined.append((i, _copy(clip, title=r.title, reasons=reasons, **scores)))
    refined.sort(key=lambda p: (-p[1].virality_score, p[0]))
    return [clip for _, clip in refined]


def _shift(local: int, suggested: int, max_shift: int) -> int:
    return local + max(-max_shift, min(max_shift, suggested - local))


def _copy(clip: ClipCandidate, **changes: Any) -> ClipCandidate:
    # Fresh lists: callers may keep and mutate the originals.
    base = {f: list(getattr(clip, f)) for f in ("topics", "keywords", "emotions", "reasons")}
    return dataclasses.replace(clip, **{**base, **changes})


def llm_refiner(
    provider: str | None, base_url: str | None, api_key: str | None, model: str | None
) -> Callable[[list[ClipCandidate], Transcript], list[ClipCandidate]] | None:
    """A ``ClipOptions.refine`` callable when all four settings are given, else None (local scoring only)."""
    if not (provider and base_url and api_key and model):
        return None
    if provider not in ("openai", "anthropic"):
        raise ValueError(f"Unknown LLM provider {provider!r}; choose openai or anthropic.")
    config = LLMConfig(base_url=base_url, api_key=api_key, model=model, provider=provider)  # type: ignore[arg-type]
    return lambda candidates, transcript: refine_clips(candidates, transcript.text, config)
