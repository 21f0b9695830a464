"""Is it a video (or audio) file? Decided from its first bytes, at the edge, before anything is stored.

A client's content type and file name are hints; the container's magic bytes are not. Files
that are not a media container (an image, a PDF, a text file) are refused when they come in,
instead of being stored and failing minutes later in the worker's probe.
"""

from __future__ import annotations

# Enough for every signature below, including an MPEG-TS packet boundary (188 bytes).
SNIFF_BYTES = 189

# ISO BMFF / QuickTime files start with a box: its size (4 bytes) then its type.
_QUICKTIME_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")

# Content types a client may announce (tus metadata ``filetype``); the bytes decide in the end.
_ACCEPTED_TYPE_PREFIXES = ("video/", "audio/")
_ACCEPTED_TYPES = ("application/octet-stream", "application/mp4", "application/ogg", "application/x-matroska",
                   "application/vnd.rn-realmedia", "")

REFUSED_MESSAGE = ("This file is not a video: send a video or audio file "
                   "(MP4, MOV, MKV, WebM, AVI, MPEG-TS, FLV, Ogg, MP3, WAV...).")


def media_container(head: bytes) -> str | None:
    """The container format ``head`` (a file's first ``SNIFF_BYTES`` bytes, or all of a shorter file) starts, or None."""
    if len(head) >= 8 and head[4:8] in _QUICKTIME_BOXES:
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] in (b"AVI ", b"WAVE"):
        return "avi" if head[8:12] == b"AVI " else "wav"
    if head.startswith(b"\x47") and len(head) > 188 and head[188] == 0x47:  # two packets' sync bytes ("G" alone is text)
        return "mpegts"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpegps"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mpeg-audio"  # MP3 with or without a tag, AAC in ADTS
    return None


def is_media_file_type(content_type: str | None) -> bool:
    """Whether an announced content type may be a video or audio file (the bytes are checked anyway)."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    return value.startswith(_ACCEPTED_TYPE_PREFIXES) or value in _ACCEPTED_TYPES
