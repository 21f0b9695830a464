"""`clipflow process` says why there are no clips, which languages it heard and what it left out."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from clipflow_api.cli import app

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "language"


def test_process_explains_no_clips_and_the_untranscribed_part(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["process", str(MEDIA / "english_french.mp4"), "--out", str(tmp_path), "--min-seconds", "30"])

    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    [part] = manifest["untranscribed"]
    assert manifest["clips"] == [] and manifest["languages"][0] == "en" and len(manifest["languages"]) == 2
    lines = result.output.splitlines()
    assert "0 clip(s) written to" in result.output
    assert manifest["no_clip_reason"] in lines
    assert f"languages heard: {', '.join(manifest['languages'])}" in lines
    assert any(line.strip().startswith(f"not transcribed [{part['start']:7.2f}-{part['end']:7.2f}]: Spoken in") for line in lines)
    assert any("set ASR_MODEL to a multilingual faster-whisper model" in line for line in lines)
