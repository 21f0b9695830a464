"""Whether a rendered variant can be published as it is: ok, fixable by a transcode, or not at all.

``check_variant`` reads the stored file's facts (PyAV, ``media.probe``) and ``judge``s them
against the platform's rules (``platforms.RULES``):

- ok: nothing to do;
- fixable: frame rate, bitrate or file size too high, frame rate too low, no fast start,
  another codec, pixel format or container, picture too large or small, sound sampled too
  high or with too many channels: ``fix`` says how to transcode (an H.264/AAC MP4 with the
  index at the front always conforms, so the transcode fixes every one of these at once);
- unfixable: too long or too short for the platform (or for the account: TikTok's
  creator_info cap), a shape the platform does not take, a size no watchable bitrate fits.

``problems`` are sentences: the unfixable ones when there are any (what the user must
change), else what the transcode will fix.

``request_conform`` creates the ``post_conform`` media job (worker:
``clipflow_worker.tasks.conform``); it transcodes to ``posts/<post_id>/conformed.mp4``, points
the post's ``media_urls`` at it and, when the post is scheduled, hands it to the publish
queue. Until then ``conform_status`` says the post is waiting for its file; a conform that
failed says why, so delivery can fail the post with that sentence.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import ErrorCode, ValidationError
from ..jobs import repository as jobs_repository
from ..jobs.service import create_job
from ..media.probe import UnreadableMedia, VariantFacts, read_facts
from ..models import Job, Post
from ..models.enums import ACTIVE_JOB_STATUSES, JobStatus
from ..storage import Storage, StorageError
from .platforms import PlatformRules, rules_for

CONFORM_JOB = "post_conform"

# A container's duration can run a frame or two past the content (audio priming, the last
# frame's length): not a reason to refuse a clip cut to the limit.
DURATION_SLACK_S = 0.1
# Below this a shrunk video is not worth posting: the size limit cannot be met by a transcode.
MIN_VIDEO_BITRATE = 500 * 1000
AUDIO_BITRATE = 128 * 1000  # what the transcode encodes sound at (Instagram's Reels spec: 128 kbps)
SIZE_MARGIN = 0.9  # aim under a size or bitrate limit: encoders overshoot, containers add bytes

MISSING_FILE = "The post's video file is missing; render the clip again."

_CODEC_NAMES = {
    "h264": "H.264", "hevc": "H.265 (HEVC)", "vp8": "VP8", "vp9": "VP9", "av1": "AV1", "mpeg4": "MPEG-4 Part 2",
    "mpeg2video": "MPEG-2", "prores": "ProRes", "aac": "AAC", "mp3": "MP3", "opus": "Opus", "vorbis": "Vorbis",
    "flac": "FLAC", "ac3": "AC-3", "pcm_s16le": "PCM",
}  # fmt: skip
_CODEC_ORDER = list(_CODEC_NAMES)
_CONTAINER_NAMES = {"mp4": "MP4 or MOV", "webm": "WebM"}


@dataclass(frozen=True)
class TranscodeSpec:
    """How to make a conforming copy: an MP4 with its index at the front, H.264 and AAC where re-encoded.

    A stream that is already fine is copied as it is (a file that only lacks fast start is
    just rewritten). JSON-safe through ``to_dict``/``from_dict`` (the job's input).
    """

    reencode_video: bool = False
    reencode_audio: bool = False
    fps: float | None = None  # output frame rate, when the source's is out of range
    max_width: int | None = None  # scale down to at most this width (keeping the shape)
    max_side: int | None = None  # scale down so neither side exceeds this
    min_side: int | None = None  # scale up so neither side is under this
    max_video_bitrate: int | None = None  # bits per second: a cap on the encoder's rate
    audio_sample_rate: int | None = None
    audio_channels: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscodeSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class MediaCheck:
    """The verdict on one file for one platform."""

    ok: bool
    problems: list[str]
    fix: TranscodeSpec | None = None  # set when every problem can be fixed by transcoding
    facts: VariantFacts | None = None


async def check_variant(storage: Storage, key: str, platform: str, *, max_duration_s: float | None = None) -> MediaCheck:
    """Probe the stored file ``key`` and judge it against ``platform``'s rules (and the account's duration cap)."""
    rules = rules_for(platform)

    def probe() -> VariantFacts:
        if not storage.exists(key):
            raise UnreadableMedia(MISSING_FILE)
        with storage.local_copy(key) as path:
            return read_facts(path)

    try:
        facts = await asyncio.to_thread(probe)
    except StorageError:
        return MediaCheck(ok=False, problems=[MISSING_FILE])
    except UnreadableMedia as exc:
        return MediaCheck(ok=False, problems=[str(exc)])
    return judge(facts, rules, max_duration_s=max_duration_s)


def judge(facts: VariantFacts, rules: PlatformRules, *, max_duration_s: float | None = None) -> MediaCheck:
    """The verdict on ``facts`` under ``rules``: pure, so the worker re-judges its own output the same way."""
    blocking = _blocking(facts, rules, max_duration_s)
    spec, reasons = _fixes(facts, rules)
    if blocking:
        return MediaCheck(ok=False, problems=blocking, fix=None, facts=facts)
    if reasons:
        return MediaCheck(ok=False, problems=reasons, fix=spec, facts=facts)
    return MediaCheck(ok=True, problems=[], fix=None, facts=facts)


def _blocking(facts: VariantFacts, rules: PlatformRules, max_duration_s: float | None) -> list[str]:
    out: list[str] = []
    product = rules.product
    limit = rules.max_duration_s
    by_account = max_duration_s is not None and max_duration_s < limit
    if by_account:
        limit = float(max_duration_s or 0)
    if facts.duration > limit + DURATION_SLACK_S:
        who = f"this {rules.name} account can post videos of at most" if by_account else f"{product} can be at most"
        out.append(f"The video is {duration_words(facts.duration)} long; {who} {duration_words(limit)}. "
                   "Choose a shorter clip.")
    if rules.min_duration_s and facts.duration < rules.min_duration_s:
        out.append(f"The video is {duration_words(facts.duration)} long; {product} must be at least "
                   f"{duration_words(rules.min_duration_s)}.")
    if rules.max_aspect is not None and facts.height and facts.width / facts.height > rules.max_aspect * 1.01:
        shape = "vertical or square" if rules.max_aspect == 1.0 else f"no wider than {rules.max_aspect:g}:1"
        out.append(f"The video is landscape ({facts.width}x{facts.height}); {product} must be {shape}. "
                   f"Post the clip's {rules.format_key} version.")
    if facts.size_bytes > rules.max_size_bytes and _size_bitrate(facts, rules) < MIN_VIDEO_BITRATE:
        out.append(f"The file is {size_words(facts.size_bytes)}; {rules.name} accepts at most "
                   f"{size_words(rules.max_size_bytes)}, and this video is too long to fit at a watchable quality.")
    return out


def _size_bitrate(facts: VariantFacts, rules: PlatformRules) -> int:
    """The video bitrate that keeps the file under the size limit (with the sound at AUDIO_BITRATE)."""
    if facts.duration <= 0:
        return 0
    audio = AUDIO_BITRATE if facts.audio_codec else 0
    return int(rules.max_size_bytes * 8 * SIZE_MARGIN / facts.duration) - audio


def _fixes(facts: VariantFacts, rules: PlatformRules) -> tuple[TranscodeSpec, list[str]]:
    product = rules.name  # "TikTok accepts", "Instagram needs"
    reasons: list[str] = []
    video: dict[str, Any] = {}
    audio: dict[str, Any] = {}
    codec = facts.video_codec or ""
    if rules.containers is not None and not set(facts.container.split(",")) & _container_names(rules.containers):
        reasons.append(f"The video is in a {container_words(facts.container)} file; {product} needs "
                       f"{' or '.join(_CONTAINER_NAMES.get(c, c.upper()) for c in sorted(rules.containers))}.")
    if codec not in rules.video_codecs:
        reasons.append(f"The video is encoded as {codec_words(codec)}; {product} accepts {_codec_list(rules.video_codecs)}.")
        video["reencode_video"] = True
    if rules.pixel_formats is not None and facts.pixel_format not in rules.pixel_formats:
        reasons.append(f"The video's colour format ({facts.pixel_format}) is not the 4:2:0 that {product} needs.")
        video["reencode_video"] = True
    if facts.fps > rules.max_fps + 0.01:
        reasons.append(f"The video runs at {_num(facts.fps)} fps; {product} accepts at most {_num(rules.max_fps)} fps.")
        video["fps"] = rules.max_fps
    elif rules.min_fps is not None and 0 < facts.fps < rules.min_fps - 0.01:
        reasons.append(f"The video runs at {_num(facts.fps)} fps; {product} needs at least {_num(rules.min_fps)} fps.")
        video["fps"] = 30.0  # a common rate inside every platform's range; frames are repeated, nothing is lost
    if rules.max_width_px is not None and facts.width > rules.max_width_px:
        reasons.append(f"The video is {facts.width} pixels wide; {product} accepts at most {rules.max_width_px}.")
        video["max_width"] = rules.max_width_px
    if rules.max_side_px is not None and max(facts.width, facts.height) > rules.max_side_px:
        reasons.append(f"The video is {facts.width}x{facts.height}; {product} accepts at most {rules.max_side_px} "
                       "pixels on each side.")
        video["max_side"] = rules.max_side_px
    if rules.min_side_px is not None and min(facts.width, facts.height) < rules.min_side_px:
        reasons.append(f"The video is {facts.width}x{facts.height}; {product} needs at least {rules.min_side_px} "
                       "pixels on each side.")
        video["min_side"] = rules.min_side_px
    caps: list[int] = []
    if rules.max_video_bitrate is not None and (facts.video_bitrate or 0) > rules.max_video_bitrate:
        reasons.append(f"The video's bitrate is {_num(round((facts.video_bitrate or 0) / 1e6, 1))} Mbps; {product} "
                       f"accepts at most {_num(rules.max_video_bitrate / 1e6)} Mbps.")
        caps.append(int(rules.max_video_bitrate * SIZE_MARGIN))
    if facts.size_bytes > rules.max_size_bytes:
        reasons.append(f"The file is {size_words(facts.size_bytes)}; {product} accepts at most "
                       f"{size_words(rules.max_size_bytes)}.")
        caps.append(_size_bitrate(facts, rules))
    if caps:
        video["max_video_bitrate"] = min(caps)
    if facts.audio_codec is not None:
        if facts.audio_codec not in rules.audio_codecs:
            reasons.append(f"The sound is encoded as {codec_words(facts.audio_codec)}; {product} accepts "
                           f"{_codec_list(rules.audio_codecs)}.")
            audio["reencode_audio"] = True
        rate = facts.audio_sample_rate or 0
        if rules.max_audio_sample_rate is not None and rate > rules.max_audio_sample_rate:
            reasons.append(f"The sound is sampled at {_num(rate / 1000)} kHz; {product} accepts at most "
                           f"{_num(rules.max_audio_sample_rate / 1000)} kHz.")
            audio["audio_sample_rate"] = rules.max_audio_sample_rate
        channels = facts.audio_channels or 0
        if rules.max_audio_channels is not None and channels > rules.max_audio_channels:
            reasons.append(f"The sound has {channels} channels; {product} accepts mono or stereo.")
            audio["audio_channels"] = rules.max_audio_channels
    if rules.needs_faststart and facts.is_mp4 and facts.faststart is False:
        reasons.append(f"The file's index (moov atom) is at the end; {product} needs it at the front (fast start).")
    # any change to the picture means encoding it; copying into MP4 needs a codec MP4 carries
    video["reencode_video"] = bool(video) or codec not in {"h264", "hevc"}
    audio["reencode_audio"] = bool(audio) or (facts.audio_codec not in (None, "aac"))
    return TranscodeSpec(**video, **audio), reasons


def _container_names(families: frozenset[str]) -> set[str]:
    # PyAV names MP4 and MOV together ("mov,mp4,m4a,3gp,3g2,mj2"); WebM is "matroska,webm"
    return set(families) | ({"mov"} if "mp4" in families else set())


def conformed_key(post_id: uuid.UUID | str) -> str:
    """Where a post's conforming copy is stored."""
    return f"posts/{post_id}/conformed.mp4"


async def request_conform(session: AsyncSession, post: Post, fix: TranscodeSpec | None = None) -> Job:
    """Create the media job that makes a conforming copy of the post's video (once per source file).

    The worker judges the file again when it runs (it may have been re-rendered since);
    ``fix`` is recorded in the job's input as what the API saw.
    """
    if not post.media_urls:
        raise ValidationError(ErrorCode.REQUIRED, "The post has no video to convert.", "media_urls")
    source = post.media_urls[0]
    current = await jobs_repository.latest_of_post(session, post.id, CONFORM_JOB)
    if current is not None and current.status in ACTIVE_JOB_STATUSES and (current.input_data or {}).get("source_key") == source:
        return current
    return await create_job(
        session, workspace_id=post.workspace_id, type=CONFORM_JOB, post_id=post.id, max_attempts=3,
        input_data={"post_id": str(post.id), "source_key": source, "fix": fix.to_dict() if fix else None},
    )


@dataclass(frozen=True)
class ConformStatus:
    """Whether a post waits for its conforming copy, and why its last conform failed (None: it did not)."""

    pending: bool
    error: str | None = None


async def conform_status(session: AsyncSession, post: Post) -> ConformStatus:
    """What delivery must know before publishing: wait (pending), fail with ``error``, or go ahead."""
    job = await jobs_repository.latest_of_post(session, post.id, CONFORM_JOB)
    # the job is about the file the post still points at: once the job has pointed the post at
    # its copy (in the commit that queued the publish), the post no longer waits, even if the
    # job row is not marked completed yet; a failure counts only for that file too
    if job is None or (job.input_data or {}).get("source_key") not in post.media_urls[:1]:
        return ConformStatus(pending=False)
    if job.status in ACTIVE_JOB_STATUSES:
        return ConformStatus(pending=True)
    if job.status == JobStatus.FAILED:
        return ConformStatus(pending=False, error=job.error)
    return ConformStatus(pending=False)


# -- words ----------------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{round(value, 2):g}"


def duration_words(seconds: float) -> str:
    """45 seconds, 2.5 seconds, 3 minutes, 3 minutes 20 seconds."""
    s = round(seconds, 1)
    if s < 60:
        return f"{_num(s)} second{'' if s == 1 else 's'}"
    minutes, rest = divmod(s, 60)
    rest = round(rest, 1)
    words = f"{int(minutes)} minute{'' if minutes == 1 else 's'}"
    return words if rest == 0 else f"{words} {_num(rest)} second{'' if rest == 1 else 's'}"


def size_words(size: int) -> str:
    """300 MB, 4 GB, 1.5 GB (decimal units, as the platforms write them)."""
    if size >= 1000**3:
        return f"{_num(round(size / 1000**3, 1))} GB"
    return f"{_num(round(size / 1000**2, 1))} MB"


def codec_words(codec: str) -> str:
    return _CODEC_NAMES.get(codec, codec.upper() or "an unknown codec")


def container_words(container: str) -> str:
    names = set(container.split(","))
    if names & {"mov", "mp4"}:
        return "MP4"
    if "webm" in names:
        return "WebM (Matroska)"
    return container.split(",")[0].upper()


def _codec_list(codecs: frozenset[str]) -> str:
    ordered = sorted(codecs, key=lambda c: (_CODEC_ORDER.index(c) if c in _CODEC_ORDER else len(_CODEC_ORDER), c))
    names = [codec_words(c) for c in ordered]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
