"""Speech audio out of a video: 16 kHz mono PCM, and a loudness envelope for scoring.

Whisper models take 16 kHz mono, so we resample once with ffmpeg and keep a WAV beside
the job: the ASR engine reads it without decoding the video again, and the same samples
feed the loudness features that clip selection scores.
"""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .ffmpeg import run_ffmpeg, safe_input
from .types import MediaError

SAMPLE_RATE = 16_000
ENVELOPE_WINDOW = 0.1  # seconds: short enough to see a stressed word, long enough to be stable
SILENCE_DB = -90.0  # floor for digital silence, where log10(0) would be -inf

# Generous: ffmpeg decodes audio at hundreds of times real time, so a 4 h video's audio
# takes a couple of minutes even on a busy worker; a stuck decode still gets stopped.
DEFAULT_TIMEOUT = 900.0


class NoAudioError(MediaError):
    """The file has no sound track, so there is nothing to transcribe."""


def extract_wav(src: str | Path, dst: str | Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Write the first audio track of ``src`` as 16 kHz mono 16-bit WAV at ``dst``.

    16-bit PCM halves the file against float32 at no loss that ASR can hear, and it is the
    format ``read_wav`` (and any whisper front end) reads without resampling.
    """
    _require_audio(src)
    dst = Path(dst)
    run_ffmpeg(
        [
            *safe_input(src),
            "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
            "-map_metadata", "-1", "-f", "wav", str(dst),
        ],
        timeout=timeout,
        what="Extracting the audio",
    )
    return dst


def decode_pcm(src: str | Path, *, timeout: float = DEFAULT_TIMEOUT) -> np.ndarray:
    """Decode the first audio track of any media file to float32 mono 16 kHz samples.

    For files that are not already our WAV (an upload's audio, a clip): ffmpeg resamples
    and downmixes, and the samples come back through a pipe, never a temporary file.
    """
    _require_audio(src)
    proc = run_ffmpeg(
        [
            *safe_input(src),
            "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1",
        ],
        timeout=timeout,
        what="Decoding the audio",
    )
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32, copy=False)


def read_wav(path: str | Path) -> np.ndarray:
    """Read a 16 kHz mono 16-bit WAV (as ``extract_wav`` writes) as float32 in [-1, 1).

    Reading the WAV directly is far cheaper than a second ffmpeg decode; any other layout
    goes through ``decode_pcm`` so the caller always gets 16 kHz mono.
    """
    try:
        with wave.open(os.fspath(path), "rb") as w:
            layout = (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype())
            if layout != (1, 2, SAMPLE_RATE, "NONE"):
                return decode_pcm(path)
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        # Not a plain PCM WAV (float WAV, WAVE_FORMAT_EXTENSIBLE, ...): let ffmpeg read it.
        return decode_pcm(path)
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def load_audio(path: str | Path) -> np.ndarray:
    """16 kHz mono float32 samples from a WAV or any media file, the cheapest way available."""
    if Path(path).suffix.lower() == ".wav":
        return read_wav(path)
    return decode_pcm(path)


@dataclass(frozen=True)
class LoudnessEnvelope:
    """RMS level in dBFS for consecutive windows of ``window`` seconds from time 0."""

    window: float
    db: np.ndarray

    @property
    def duration(self) -> float:
        return self.window * len(self.db)

    def span(self, start: float, end: float) -> np.ndarray:
        """The windows that overlap [start, end); empty when the span lies outside the audio."""
        first = max(0, int(np.floor(start / self.window)))
        last = min(len(self.db), int(np.ceil(end / self.window)))
        return self.db[first:last] if last > first else self.db[:0]

    def to_list(self) -> list[float]:
        return [round(float(v), 2) for v in self.db]


def loudness_envelope(samples: np.ndarray, *, sample_rate: int = SAMPLE_RATE, window: float = ENVELOPE_WINDOW) -> LoudnessEnvelope:
    """RMS dBFS per ``window`` seconds; a trailing partial window counts as its own window.

    Clip scoring compares levels within one recording (emphasis, variance), so dBFS is
    enough: absolute loudness (LUFS) would add filtering without changing the ranking.
    """
    hop = int(round(window * sample_rate))
    if hop <= 0:
        raise ValueError("window must be at least one sample long")
    full = samples.size // hop
    count = full + (1 if samples.size % hop else 0)
    power = np.empty(count, dtype=np.float64)
    frames = samples[: full * hop].reshape(full, hop)  # a view: no copy of a 4-hour track
    # Blocks bound the float64 working copy to a few MB whatever the length.
    for a in range(0, full, _BLOCK_WINDOWS):
        block = frames[a : a + _BLOCK_WINDOWS].astype(np.float64)
        power[a : a + len(block)] = np.einsum("ij,ij->i", block, block) / hop
    if count > full:
        # The last, partial window is averaged over the samples it really holds.
        tail = samples[full * hop :].astype(np.float64)
        power[-1] = float(tail @ tail) / tail.size
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(power)  # 10 log10(mean square) = 20 log10(RMS)
    return LoudnessEnvelope(window, np.maximum(db, SILENCE_DB).astype(np.float32))


_BLOCK_WINDOWS = 4096


def _require_audio(src: str | Path) -> None:
    # Asking before decoding gives a sentence the user understands instead of
    # ffmpeg's "Stream map '0:a:0' matches no streams".
    path = os.fspath(src)
    if not os.path.isfile(path):
        raise MediaError("The file could not be found.")
    try:
        with av.open(path, options={"protocol_whitelist": "file"}, metadata_errors="ignore") as container:
            has_audio = bool(container.streams.audio)
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError("This file is not a video we can read (it may be corrupt or in an unsupported format).") from exc
    if not has_audio:
        raise NoAudioError("This video has no sound track, so there is no speech to turn into clips.")
