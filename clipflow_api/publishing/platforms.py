"""What each platform accepts: media limits for a short vertical video, and caption rules.

One ``PlatformRules`` per platform this issue publishes to (YouTube Shorts, TikTok,
Instagram Reels); the other five come with issue 10. Every number says where it comes from.
Where a platform documents nothing we set no limit (None), rather than guess one, except
where a comment says why.

``check_text`` judges the words of a post; ``publishing.conform`` judges the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ErrorCode, ValidationError
from ..models.enums import Platform

KB = 1000
MB = 1000 * KB
GB = 1000 * MB  # decimal units: where a platform does not say which it means, the smaller reading is the safe one

# 4:2:0 chroma subsampling (8-bit, 8-bit full range, 10-bit)
YUV420 = frozenset({"yuv420p", "yuvj420p", "yuv420p10le"})


@dataclass(frozen=True)
class PlatformRules:
    """A platform's rules for one published short video and its text.

    Media names are PyAV's: codecs ``h264``/``hevc``/``vp9``/``aac``; ``containers`` are names
    found in PyAV's format name (``"mp4"`` matches ``"mov,mp4,m4a,3gp,3g2,mj2"``); None means
    the platform takes any the file is readable in.
    """

    platform: Platform
    name: str  # the platform in a sentence: "TikTok"
    product: str  # what we publish there, as a plural subject: "YouTube Shorts", "TikTok videos"
    format_key: str  # the clip variant (clips.file_urls key) that fits: "9:16"
    min_duration_s: float
    max_duration_s: float
    max_size_bytes: int
    max_fps: float
    video_codecs: frozenset[str]
    audio_codecs: frozenset[str]
    max_caption_chars: int
    max_hashtags: int | None
    max_title_chars: int | None
    # -- beyond the shared interface ----------------------------------------------------------
    min_fps: float | None = None
    containers: frozenset[str] | None = None
    pixel_formats: frozenset[str] | None = None
    min_side_px: int | None = None
    max_side_px: int | None = None
    max_width_px: int | None = None
    max_aspect: float | None = None  # width / height; 1.0 = square or taller
    max_video_bitrate: int | None = None  # bits per second
    max_audio_sample_rate: int | None = None
    max_audio_channels: int | None = None
    needs_faststart: bool = False  # the index (moov) before the media (mdat)
    caption_utf16: bool = False  # caption length counted in UTF-16 code units (emoji count 2)
    max_mentions: int | None = None
    max_description_bytes: int | None = None
    max_tags_chars: int | None = None
    handle_chars: str = r"\w."  # what an @handle may contain (regex class body)


RULES: dict[Platform, PlatformRules] = {
    Platform.YOUTUBE: PlatformRules(
        platform=Platform.YOUTUBE, name="YouTube", product="YouTube Shorts", format_key="9:16",
        # YouTube Help "Understand three-minute YouTube Shorts" (answer 15424877): since
        # 15 Oct 2024 a square or vertical upload of up to three minutes is a Short. No minimum.
        min_duration_s=0.0, max_duration_s=180.0, max_aspect=1.0,
        # YouTube Data API videos.insert: "Maximum file size: 256GB".
        max_size_bytes=256 * GB,
        # YouTube Help "Recommended upload encoding settings" (answer 1722171): 24-60 fps
        # ("48, 50 and 60 frames per second" the highest listed); H.264, 4:2:0, AAC-LC; MP4
        # with "moov atom at the front of the file (Fast Start)". The codec lists are the
        # "Supported YouTube file formats" (answer 4720372) we can produce or pass through.
        max_fps=60.0, pixel_formats=YUV420, needs_faststart=True,
        video_codecs=frozenset({"h264", "hevc", "vp8", "vp9", "av1"}),
        audio_codecs=frozenset({"aac", "mp3", "opus", "vorbis", "flac"}),
        # YouTube Data API videos resource: snippet.title "maximum length of 100 characters",
        # snippet.description "maximum length of 5000 bytes", both without < and >;
        # snippet.tags "maximum length of 500 characters", commas between tags and quotes
        # around a tag with a space counted. The description carries the caption.
        max_title_chars=100, max_description_bytes=5000, max_caption_chars=5000, max_tags_chars=500,
        # YouTube Help "Use hashtags for YouTube search" (answer 6390658): with more than 60
        # hashtags YouTube ignores all of them.
        max_hashtags=60, handle_chars=r"\w.\-",
    ),
    Platform.TIKTOK: PlatformRules(
        platform=Platform.TIKTOK, name="TikTok", product="TikTok videos", format_key="9:16",
        # TikTok Content Posting API, Media Transfer Guide, "Video restrictions": MP4 (recommended),
        # WebM, MOV; H.264 (recommended), H.265, VP8, VP9; 23-60 FPS; 360-4096 px for height and
        # width; at most 4GB; "The longest video a developer can send ... is 10 minutes" (the
        # account's own cap is creator_info's max_video_post_duration_sec, passed per check).
        # No minimum duration is documented.
        min_duration_s=0.0, max_duration_s=600.0, max_size_bytes=4 * GB,
        min_fps=23.0, max_fps=60.0, min_side_px=360, max_side_px=4096,
        containers=frozenset({"mp4", "webm"}),
        video_codecs=frozenset({"h264", "hevc", "vp8", "vp9"}),
        # No audio codec is documented; these are what MP4 and WebM carry and TikTok plays.
        audio_codecs=frozenset({"aac", "mp3", "opus", "vorbis"}),
        # Direct Post API post_info.title (the caption): "max 2200 UTF-16 runes". No hashtag cap.
        max_caption_chars=2200, caption_utf16=True, max_hashtags=None, max_title_chars=None,
    ),
    Platform.INSTAGRAM: PlatformRules(
        platform=Platform.INSTAGRAM, name="Instagram", product="Instagram Reels", format_key="9:16",
        # Instagram Graph API, POST /{ig-user-id}/media, "Reel Specifications": MOV or MP4, moov
        # atom at the front, no edit lists; HEVC or H264, progressive, closed GOP, 4:2:0; AAC,
        # 48 kHz maximum, 1 or 2 channels; 23-60 FPS; at most 1920 columns, 9:16 recommended
        # (0.01:1 to 10:1 accepted); video bitrate VBR 25 Mbps maximum; 3 seconds to 15 minutes;
        # 300MB maximum.
        min_duration_s=3.0, max_duration_s=15 * 60.0, max_size_bytes=300 * MB,
        min_fps=23.0, max_fps=60.0, max_width_px=1920, max_video_bitrate=25 * MB,
        containers=frozenset({"mp4"}), pixel_formats=YUV420, needs_faststart=True,
        video_codecs=frozenset({"h264", "hevc"}), audio_codecs=frozenset({"aac"}),
        max_audio_sample_rate=48_000, max_audio_channels=2,
        # Same reference, "caption": "Maximum 2200 characters, 30 hashtags, and 20 @ tags". Since
        # December 2025 Instagram caps hashtags at 5 per post or reel (Instagram @creators,
        # 18 Dec 2025: "gradually update the number of hashtags ... to five"); a post with more
        # may be refused, so we hold to 5.
        max_caption_chars=2200, max_hashtags=5, max_mentions=20, max_title_chars=None,
    ),
}


def rules_for(platform: str) -> PlatformRules:
    """The rules of ``platform``; ValidationError for a platform we do not publish to yet."""
    try:
        return RULES[Platform(platform)]
    except (ValueError, KeyError):
        raise ValidationError(ErrorCode.INVALID, f"Publishing to {platform} is not available yet.", "platform") from None


# -- text ---------------------------------------------------------------------------------------

# What the fake platforms and the platforms themselves count: a # or @ followed by a word character.
_HASHTAG = re.compile(r"#\w")
_MENTION = re.compile(r"@\w")


def _tag(value: str, sign: str) -> str:
    return sign + value.strip().lstrip(sign)


def compose_caption(caption: str | None, hashtags: Sequence[str] | None = None, mentions: Sequence[str] | None = None) -> str:
    """The text a platform receives: the caption, then the hashtags and mentions it does not already contain."""
    text = (caption or "").strip()
    present = {word.lower() for word in re.findall(r"[#@][\w.\-]+", text)}
    extra = [t for t in (*(_tag(h, "#") for h in hashtags or ()), *(_tag(m, "@") for m in mentions or ()))
             if t.lower() not in present and len(t) > 1]
    extra = list(dict.fromkeys(extra))
    if not extra:
        return text
    return f"{text}\n\n{' '.join(extra)}" if text else " ".join(extra)


def _length(text: str, utf16: bool) -> int:
    return len(text.encode("utf-16-le")) // 2 if utf16 else len(text)


def _tags_length(tags: Sequence[str]) -> int:
    # YouTube counts the commas between tags, and quotes around a tag with a space
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def check_text(
    platform: str,
    caption: str | None,
    hashtags: Sequence[str] | None = None,
    mentions: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[str]:
    """What is wrong with a post's words for ``platform``, as sentences; empty when nothing is."""
    rules = rules_for(platform)
    options = options or {}
    problems: list[str] = []
    handle = re.compile(rf"^[{rules.handle_chars}]+$")
    for tag in hashtags or ():
        bare = tag.strip().lstrip("#")
        if not re.fullmatch(r"\w+", bare):
            problems.append(f"The hashtag “{tag}” may only contain letters, numbers and underscores.")
    for name in mentions or ():
        bare = name.strip().lstrip("@")
        if not handle.fullmatch(bare):
            problems.append(f"The mention “{name}” is not a valid {rules.name} username.")
    text = compose_caption(caption, hashtags, mentions)
    length = _length(text, rules.caption_utf16)
    if length > rules.max_caption_chars and rules.max_description_bytes is None:
        problems.append(f"The caption is {length:,} characters with its hashtags and mentions; "
                        f"{rules.name} allows at most {rules.max_caption_chars:,}.")
    count = len(_HASHTAG.findall(text))
    if rules.max_hashtags is not None and count > rules.max_hashtags:
        problems.append(f"The post has {count} hashtags; {rules.name} allows at most {rules.max_hashtags}.")
    count = len(_MENTION.findall(text))
    if rules.max_mentions is not None and count > rules.max_mentions:
        problems.append(f"The post mentions {count} accounts; {rules.name} allows at most {rules.max_mentions}.")
    if rules.platform == Platform.YOUTUBE:
        problems += _youtube_text(rules, text, options)
    return problems


def _youtube_text(rules: PlatformRules, caption: str, options: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    # the YouTube publisher's default title: the caption's first line
    title = str(options.get("title") or caption.split("\n", 1)[0]).strip()
    description = str(options.get("description") or caption)
    if rules.max_title_chars is not None and len(title) > rules.max_title_chars:
        problems.append(f"The title is {len(title)} characters; {rules.name} allows at most {rules.max_title_chars}.")
    if "<" in title or ">" in title:
        problems.append(f"{rules.name} titles cannot contain < or >.")
    size = len(description.encode())
    if rules.max_description_bytes is not None and size > rules.max_description_bytes:
        problems.append(f"The description is {size:,} bytes with its hashtags and mentions; {rules.name} allows at most "
                        f"{rules.max_description_bytes:,} (accented letters and emoji take 2 to 4 bytes each).")
    if "<" in description or ">" in description:
        problems.append(f"{rules.name} descriptions cannot contain < or >.")
    raw_tags = options.get("tags") or ()
    tags = [raw_tags] if isinstance(raw_tags, str) else [str(t) for t in raw_tags]
    used = _tags_length(tags)
    if rules.max_tags_chars is not None and used > rules.max_tags_chars:
        problems.append(f"The tags take {used} characters; {rules.name} allows at most {rules.max_tags_chars} "
                        f"(commas between tags, and quotes around tags with spaces, count too).")
    return problems
