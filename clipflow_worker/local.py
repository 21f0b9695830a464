"""``clipflow process``: the clip engine on a local file, no API, no database.

Writes, under ``--out``: ``clip_<n>_<9x16|1x1|16x9>.mp4``, ``clip_<n>.jpg``, ``clip_<n>.srt``,
``clip_<n>.vtt`` and ``manifest.json`` (transcript with word timings, and per clip its span,
scores, title, topics and the paths of its files).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from .pipeline.clipper import STEPS, ClipOptions, analyze_video, render_clip


def process_file(source: Path, out_dir: Path, options: ClipOptions, *, show_progress: bool = True) -> dict[str, Any]:
    """Run the pipeline on ``source`` and write clips and ``manifest.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with Progress(
        TextColumn("[bold]{task.description:<12}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[message]}"), TimeElapsedColumn(), disable=not show_progress,
    ) as bars:
        tasks: dict[str, TaskID] = {
            step: bars.add_task(step, total=100, message="") for step in ("probe", "audio", "transcribe", "analyze")
        }

        def on_step(step: str, percent: int, message: str) -> None:
            lo, hi = STEPS[step]
            for earlier in tasks:
                if STEPS[earlier][1] <= lo:
                    bars.update(tasks[earlier], completed=100)
            bars.update(tasks[step], completed=100 * (percent - lo) / max(1, hi - lo), message=message)

        analysis = analyze_video(source, options, progress=on_step)
        for task in tasks.values():
            bars.update(task, completed=100)
        clips = []
        for index, candidate in enumerate(analysis.candidates):
            task = bars.add_task(f"clip {index + 1}", total=100, message=candidate.title[:40])
            stem = f"clip_{index + 1}"
            rendered = render_clip(
                source, candidate, analysis.transcript, out_dir, options, stem=stem,
                progress=lambda f, m, task=task: bars.update(task, completed=100 * f, message=m),
            )  # fmt: skip
            thumb = None
            if rendered.thumbnail is not None:
                thumb = out_dir / f"{stem}.jpg"
                shutil.move(rendered.thumbnail, thumb)
            clips.append({
                "index": index + 1,
                "title": candidate.title,
                "start": round(candidate.start, 3),
                "end": round(candidate.end, 3),
                "duration": round(candidate.duration, 3),
                "scores": {"virality": candidate.virality_score, "hook": candidate.hook_score,
                           "engagement": candidate.engagement_score},
                "topics": candidate.topics,
                "keywords": candidate.keywords,
                "text": candidate.text,
                "reframed": rendered.reframed,
                "files": {fmt: path.name for fmt, path in rendered.files.items()},
                "thumbnail": thumb.name if thumb else None,
                "srt": rendered.srt.name,
                "vtt": rendered.vtt.name,
            })
    manifest = {
        "source": str(source),
        "duration": analysis.info.duration,
        "language": analysis.transcript.language,
        "languages": list(analysis.transcript.languages or (analysis.transcript.language,)),
        "untranscribed": [dict(p) for p in analysis.transcript.untranscribed],
        "no_clip_reason": analysis.no_clip_reason,
        "style": options.style,
        "topics": analysis.topics,
        "key_moments": analysis.key_moments,
        "transcript": analysis.transcript.to_dict(),
        "clips": clips,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
