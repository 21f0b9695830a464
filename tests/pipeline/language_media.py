"""Generate the espeak-ng fixtures for the short-video, language and repetition tests.

The outputs (tests/fixtures/media/language/*.mp4 and manifest.json) are committed, so the
tests never need espeak-ng; run this only to change them (needs ``apt-get install espeak-ng``):

    .venv/bin/python -m tests.pipeline.language_media
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts import make_sample_media as sample

OUT = ROOT / "tests" / "fixtures" / "media" / "language"

SHORT_LINE = ("Here is the truth nobody wants to hear. Clarity beats talent, every single time. If you remember one thing today, remember that.",)

ENGLISH = (
    ("Why do most startups fail in their first three years? It is not the money. "
    "It is not the market. It is the team, and I am going to show you why."),
    ("Here is a number that shocked me. Ninety percent of the founders we surveyed said they "
    "never wrote down how decisions get made. Not once. When things got hard, nobody knew "
    "who had the final word."),
)
FRENCH = (
    ("Pourquoi la plupart des jeunes entreprises échouent-elles pendant leurs trois premières années ? "
    "Ce n'est pas l'argent. Ce n'est pas le marché. C'est l'équipe, et je vais vous montrer pourquoi."),
    ("Voici un chiffre qui m'a choqué. Quatre-vingt-dix pour cent des fondateurs que nous avons interrogés "
    "n'ont jamais écrit comment les décisions sont prises. Quand les choses sont devenues difficiles, "
    "personne ne savait qui avait le dernier mot."),
)
REPEATED = (
    ("So what should you do about it? First, write a one page decision document. Second, name "
    "one owner for every decision. Third, review it every quarter. Three steps, thirty minutes a month."),
) * 3


def build(paragraphs: tuple[str, ...], voices: tuple[str, ...], workdir: Path) -> tuple[np.ndarray, int, list[dict[str, object]]]:
    pieces: list[np.ndarray] = []
    spoken: list[dict[str, object]] = []
    cursor, rate = 0, 22050
    for i, (text, voice) in enumerate(zip(paragraphs, voices)):
        sample.VOICE = voice
        samples, rate = sample.speak(text, workdir, i)
        silence = int((sample.LEAD_IN if i == 0 else sample.PARAGRAPH_GAP) * rate)
        pieces.append(np.zeros(silence, dtype=np.int16))
        cursor += silence
        spoken.append({"text": text, "voice": voice, "start": round(cursor / rate, 3), "end": round((cursor + samples.size) / rate, 3)})
        pieces.append(samples)
        cursor += samples.size
    pieces.append(np.zeros(int(sample.TAIL * rate), dtype=np.int16))
    return np.concatenate(pieces), rate, spoken


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {}
    files = {
        "short_line.mp4": (SHORT_LINE, ("en-us",)),
        "english_french.mp4": (ENGLISH + FRENCH, ("en-us",) * len(ENGLISH) + ("fr",) * len(FRENCH)),
        "repeated.mp4": (REPEATED, ("en-us",) * len(REPEATED)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (paragraphs, voices) in files.items():
            samples, rate, spoken = build(paragraphs, voices, Path(tmp))
            wav = Path(tmp) / f"{name}.wav"
            sample.write_wav(wav, samples, rate)
            # a small still picture: the pipeline takes videos, and these tests are about the speech
            sample.mux_video(wav, samples.size / rate, OUT / name, size="320x180", picture="color", crf=40)
            manifest[name] = {"duration": round(samples.size / rate, 3), "paragraphs": spoken}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
