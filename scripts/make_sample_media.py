"""Generate the sample talk video and the small test fixtures from a written script.

Speech comes from espeak-ng (Debian package ``espeak-ng``), pictures from ffmpeg's lavfi
sources. The outputs are committed, so tests and the demo never need espeak-ng; run this
only to change them:

    .venv/bin/python scripts/make_sample_media.py

Besides the media it writes ``tests/fixtures/media/manifest.json``: for every file, the
spoken paragraphs with the exact times at which each starts and ends in the audio. Tests
use it to bound what the transcription may return.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipflow_worker.pipeline.ffmpeg import run_ffmpeg, safe_input  # noqa: E402

SAMPLES = ROOT / "samples"
FIXTURES = ROOT / "tests" / "fixtures" / "media"

VOICE = "en-us"
WORDS_PER_MINUTE = 155
LEAD_IN = 0.8  # seconds of silence before the first word: a real recording rarely starts on a syllable
PARAGRAPH_GAP = 1.4  # long enough for VAD and for clip selection to see a paragraph break
TAIL = 1.0

# A short talk built to exercise clip selection: question-led hooks, numbers, strong
# claims, direct address, one deliberately flat paragraph, and pauses between paragraphs.
TALK: tuple[str, ...] = (
    "Why do most startups fail in their first three years? It is not the money. "
    "It is not the market. It is the team, and I am going to show you why.",
    "Here is a number that shocked me. Ninety percent of the founders we surveyed said they "
    "never wrote down how decisions get made. Not once. When things got hard, nobody knew "
    "who had the final word.",
    "So what should you do about it? First, write a one page decision document. Second, name "
    "one owner for every decision. Third, review it every quarter. Three steps, thirty minutes "
    "a month.",
    "Let me tell you about a company I worked with in Berlin. They had twelve engineers and two "
    "founders who disagreed about everything. After six months of this simple practice, they "
    "shipped twice as fast, and they stopped losing people. Nobody quit that year.",
    "The weather that spring was mild, and the office had large windows facing a quiet "
    "courtyard. We usually met on Tuesdays in a small room on the second floor, and the "
    "meetings were fairly ordinary.",
    "Here is the truth nobody wants to hear. Your product will never be better than the way "
    "your team makes decisions. If you remember one thing today, remember this: clarity beats "
    "talent, every single time.",
    "Thank you for listening. Now go and write that document.",
)


@dataclass(frozen=True)
class Spoken:
    text: str
    start: float
    end: float


def espeak_binary() -> str:
    found = shutil.which("espeak-ng")
    if not found:
        raise SystemExit("espeak-ng is needed to regenerate the media: apt-get install -y espeak-ng")
    return found


def speak(text: str, workdir: Path, index: int) -> tuple[np.ndarray, int]:
    """Synthesize one paragraph; return int16 samples and their rate."""
    out = workdir / f"p{index:02d}.wav"
    subprocess.run(
        [espeak_binary(), "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(out), text],
        check=True,
        timeout=60,
    )
    with wave.open(str(out)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return _trim_silence(samples), rate


def _trim_silence(samples: np.ndarray, threshold: int = 200) -> np.ndarray:
    # espeak pads its output with a little silence; trimming it makes the manifest's
    # paragraph times the real speech edges, so tests can bound word timings tightly.
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if loud.size == 0:
        return samples
    return samples[loud[0] : loud[-1] + 1]


def build_speech(paragraphs: tuple[str, ...], workdir: Path, gap: float = PARAGRAPH_GAP) -> tuple[np.ndarray, int, list[Spoken]]:
    """Concatenate paragraphs with silences between them, recording where each lies."""
    pieces: list[np.ndarray] = []
    spoken: list[Spoken] = []
    rate = 0
    cursor = 0
    for i, text in enumerate(paragraphs):
        samples, rate = speak(text, workdir, i)
        silence = int((LEAD_IN if i == 0 else gap) * rate)
        pieces.append(np.zeros(silence, dtype=np.int16))
        cursor += silence
        spoken.append(Spoken(text, round(cursor / rate, 3), round((cursor + samples.size) / rate, 3)))
        pieces.append(samples)
        cursor += samples.size
    pieces.append(np.zeros(int(TAIL * rate), dtype=np.int16))
    return np.concatenate(pieces), rate, spoken


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())


def mux_video(wav: Path | None, duration: float, out: Path, *, size: str, picture: str, crf: int) -> None:
    """Mux speech (or silence when ``wav`` is None) with a generated picture into H.264/AAC MP4."""
    video_src = picture_source(size, duration) if picture == "stage" else f"{picture}=s={size}:r=25:d={duration:.3f}"
    audio_in = safe_input(wav) if wav else ["-f", "lavfi", "-i", f"anullsrc=r=44100:cl=mono:d={duration:.3f}"]
    run_ffmpeg(
        [
            "-f", "lavfi", "-i", video_src,
            *audio_in,
            "-map", "0:v", "-map", "1:a",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-g", "250", "-threads", "1",
            "-c:a", "aac", "-b:a", "48k", "-ac", "1", "-ar", "44100",
            "-shortest", "-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact",
            str(out),
        ],
        timeout=300,
        what=f"encoding {out.name}",
    )


def picture_source(size: str, duration: float) -> str:
    """A plain stage: dark backdrop, a box drifting across it, a lower-third bar.

    Flat colour compresses to almost nothing (a 90 s 720p talk stays near 100 KB of video),
    while the moving box still gives the encoder and any scene logic real motion.
    """
    width, height = (int(v) for v in size.split("x"))
    box = height // 7
    return (
        f"color=c=0x1e2a3a:s={size}:r=25:d={duration:.3f},"
        f"drawbox=x='{width // 20}+mod(t*{width // 20}\\,{width - box - width // 10})':y={height // 2 - box // 2}:"
        f"w={box}:h={box}:color=0xf0a030:t=fill,"
        f"drawbox=x=0:y={height - height // 6}:w={width}:h={height // 12}:color=0x3a4a60:t=fill"
    )


def encode_audio_only(wav: Path, out: Path) -> None:
    run_ffmpeg(
        [*safe_input(wav), "-vn", "-c:a", "aac", "-b:a", "48k", "-ac", "1", "-ar", "44100",
         "-map_metadata", "-1", "-fflags", "+bitexact", str(out)],
        timeout=120,
        what=f"encoding {out.name}",
    )


def encode_video_without_audio(duration: float, out: Path) -> None:
    run_ffmpeg(
        ["-f", "lavfi", "-i", f"testsrc2=s=320x180:r=25:d={duration:.3f}",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "35", "-pix_fmt", "yuv420p", "-threads", "1",
         "-map_metadata", "-1", "-fflags", "+bitexact", str(out)],
        timeout=120,
        what=f"encoding {out.name}",
    )


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        talk, rate, spoken = build_speech(TALK, work)
        talk_wav = work / "talk.wav"
        write_wav(talk_wav, talk, rate)
        talk_out = SAMPLES / "talk.mp4"
        mux_video(talk_wav, talk.size / rate, talk_out, size="1280x720", picture="stage", crf=30)
        manifest["samples/talk.mp4"] = _entry(talk.size / rate, spoken)

        # The 15-second clip is the talk's "three steps" paragraph alone: a known word list
        # with numbers and a question, short enough for a fast transcription test.
        short, rate, spoken = build_speech((TALK[2],), work)
        short_wav = work / "short.wav"
        write_wav(short_wav, short, rate)
        mux_video(short_wav, short.size / rate, FIXTURES / "speech_15s.mp4", size="320x180", picture="stage", crf=30)
        manifest["tests/fixtures/media/speech_15s.mp4"] = _entry(short.size / rate, spoken)

        hook, rate, spoken = build_speech((TALK[0],), work)
        hook_wav = work / "hook.wav"
        write_wav(hook_wav, hook, rate)
        encode_audio_only(hook_wav, FIXTURES / "audio_only.m4a")
        manifest["tests/fixtures/media/audio_only.m4a"] = _entry(hook.size / rate, spoken)

        mux_video(None, 4.0, FIXTURES / "silent_4s.mp4", size="320x180", picture="stage", crf=30)
        manifest["tests/fixtures/media/silent_4s.mp4"] = _entry(4.0, [])

        encode_video_without_audio(2.0, FIXTURES / "no_audio_2s.mp4")
        manifest["tests/fixtures/media/no_audio_2s.mp4"] = _entry(2.0, [])

    (FIXTURES / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for name in manifest:
        print(f"{name}: {(ROOT / name).stat().st_size / 1024:.0f} KiB")


def _entry(duration: float, spoken: list[Spoken]) -> dict[str, object]:
    return {
        "duration": round(duration, 3),
        "paragraphs": [{"text": s.text, "start": s.start, "end": s.end} for s in spoken],
    }


if __name__ == "__main__":
    main()
