"""The clip engine on a 10-minute talk: seconds of processing per minute of source, by step,
and our two heavy steps against the bare tools doing the same work.

    .venv/bin/python bench/pipeline.py [--clips 3] [--minutes 10]

The source is samples/talk.mp4 (espeak speech on a 1280x720 stage) looped to ~10 minutes
by stream copy. Every figure comes from this one run:

- per step (probe, audio, transcribe, select, speaker tracking, render, subtitles): wall
  seconds and seconds per source minute;
- render ratio: our ``render_clip_variants`` over the selected spans vs one plain ffmpeg
  command per span writing the same three outputs: same spans, input seek, one decode
  split three ways, the same layout (the sample has no face, so the blurred-background
  layout, written out by hand here), the same ASS captions and x264/AAC settings. Goal
  <= 1.15. For scale, also against the cheapest possible command (a centre crop,
  bench/render_overhead.py's ``baseline``);
- transcription ratio: our engine vs bare faster-whisper (same model, VAD, batch size,
  beam, word timestamps) on the same 16 kHz WAV. Goal <= 1.10.

Pairs are timed back to back so that load from other work on the machine hits both sides.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from render_overhead import baseline as centre_crop_baseline  # noqa: E402

from clipflow_worker.pipeline.audio import extract_wav, loudness_envelope, read_wav  # noqa: E402
from clipflow_worker.pipeline.faces import track_speaker  # noqa: E402
from clipflow_worker.pipeline.ffmpeg import run_ffmpeg, safe_input  # noqa: E402
from clipflow_worker.pipeline.probe import probe_media  # noqa: E402
from clipflow_worker.pipeline.render import render_clip_variants  # noqa: E402
from clipflow_worker.pipeline.select import SelectionConfig, key_moments, select_clips, video_topics  # noqa: E402
from clipflow_worker.pipeline.subtitles import build_cues, write_srt, write_vtt  # noqa: E402
from clipflow_worker.pipeline.transcribe import get_engine, resolve_model  # noqa: E402

SAMPLE = ROOT / "samples" / "talk.mp4"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def make_talk(dest: Path, minutes: float) -> Path:
    loops = max(0, int(minutes * 60 // probe_media(SAMPLE).duration))
    run_ffmpeg(["-stream_loop", str(loops), *safe_input(SAMPLE), "-t", str(minutes * 60), "-c", "copy", str(dest)], timeout=300)
    return dest


def blurred_baseline(source: Path, start: float, end: float, words: list, out_dir: Path) -> None:
    """The plain command for the no-face layout: the frame fitted over a blurred copy of itself."""
    from clipflow_worker.pipeline.captions import build_ass
    from clipflow_worker.pipeline.render import EncodeSettings, ass_filter
    from clipflow_worker.pipeline.types import FORMATS

    enc = EncodeSettings()
    graph, outputs = ["[0:v]setpts=PTS-STARTPTS,split=3[s0][s1][s2]"], []
    for i, fmt in enumerate(FORMATS.values()):
        w, h = fmt.width, fmt.height
        sw, sh = max(2, round(w / 8 / 2) * 2), max(2, round(h / 8 / 2) * 2)
        ass = out_dir / f"b{i}.ass"
        ass.write_text(build_ass(words, fmt, clip_start=start, clip_end=end, style="hormozi"), encoding="utf-8")
        graph.append(
            f"[s{i}]split[a{i}][b{i}];"
            f"[a{i}]scale={sw}:{sh}:force_original_aspect_ratio=increase:flags=bilinear,crop={sw}:{sh},boxblur=6:2,"
            f"scale={w}:{h}:flags=bilinear,setsar=1[bg{i}];"
            f"[b{i}]scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1[fg{i}];"
            f"[bg{i}][fg{i}]overlay=x=(W-w)/2:y=(H-h)/2,{ass_filter(ass)},format=yuv420p[o{i}]"
        )
        outputs += ["-map", f"[o{i}]", "-map", "0:a:0", "-c:v", "libx264", "-preset", enc.preset, "-crf", str(enc.crf),
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", enc.audio_bitrate, "-movflags", "+faststart",
                    str(out_dir / f"b_{i}.mp4")]
    run_ffmpeg([*safe_input(source, seek=start, duration=end - start), "-filter_complex", ";".join(graph), *outputs],
               timeout=1800)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    steps: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="clipflow-bench-") as tmp:
        work = Path(tmp)
        source = make_talk(work / "talk.mp4", args.minutes)
        steps["probe"], info = timed(lambda: probe_media(source))
        minutes = info.duration / 60
        wav = work / "audio.wav"
        steps["audio"], _ = timed(lambda: extract_wav(source, wav))
        engine = get_engine("faster-whisper", "tiny.en")
        load_s, _ = timed(engine.pipeline)  # once per worker process, not per video
        steps["transcribe"], transcript = timed(lambda: engine.transcribe(wav))

        from faster_whisper import BatchedInferencePipeline, WhisperModel

        options = engine.options  # the same settings for the bare run
        bare = BatchedInferencePipeline(WhisperModel(str(resolve_model("tiny.en")), device=options.device,
                                                     compute_type="int8" if options.compute_type == "auto" else options.compute_type,
                                                     cpu_threads=options.cpu_threads))

        def bare_run() -> None:
            segments, _ = bare.transcribe(str(wav), batch_size=options.batch_size, beam_size=options.beam_size,
                                          vad_filter=True, word_timestamps=True)
            list(segments)

        # alternate bare / ours / bare so drift hits both; best of two each
        bare_s = timed(bare_run)[0]
        ours_again_s, _ = timed(lambda: engine.transcribe(wav))
        bare_s = min(bare_s, timed(bare_run)[0])

        def select() -> Any:
            loud = loudness_envelope(read_wav(wav))
            chosen = select_clips(transcript, loud, SelectionConfig(max_clips=args.clips))
            key_moments(transcript, loud)
            video_topics(transcript)
            return chosen

        steps["select"], candidates = timed(select)
        steps["tracking"] = steps["render"] = steps["subtitles"] = 0.0
        baseline_s = centre_s = 0.0
        render_only_s = 0.0
        layouts = []
        for i, c in enumerate(candidates):
            words = [w for w in transcript.words if w.end > c.start and w.start < c.end]
            t, crop = timed(lambda c=c: track_speaker(source, c.start, c.end))
            steps["tracking"] += t
            layouts.append("tracked crop" if crop is not None else "blurred background")
            out = work / f"clip{i}"
            t, _ = timed(lambda c=c, out=out, words=words, crop=crop: render_clip_variants(
                source, c.start, c.end, out, words=words, style="hormozi", crop_path=crop, stem="clip"))
            steps["render"] += t
            render_only_s += t
            base_out = work / f"base{i}"
            base_out.mkdir()
            plain = blurred_baseline if crop is None else centre_crop_baseline
            t, _ = timed(lambda c=c, words=words, base_out=base_out, plain=plain: plain(source, c.start, c.end, words, base_out))
            baseline_s += t
            t, _ = timed(lambda c=c, words=words, base_out=base_out: centre_crop_baseline(source, c.start, c.end, words, base_out))
            centre_s += t
            t, _ = timed(lambda c=c, out=out, words=words: (
                write_srt(build_cues(words, clip_start=c.start, clip_end=c.end), out / "clip.srt"),
                write_vtt(build_cues(words, clip_start=c.start, clip_end=c.end), out / "clip.vtt")))
            steps["subtitles"] += t

    clip_seconds = sum(c.duration for c in candidates)
    print(f"source: {info.duration:.0f} s ({minutes:.1f} min) talk, {info.width}x{info.height}; "
          f"{len(candidates)} clips, {clip_seconds:.0f} s of clips; ASR model load {load_s:.1f} s (once per worker)")
    print(f"{'step':<12}{'seconds':>10}{'s / source min':>16}")
    for name, seconds in steps.items():
        print(f"{name:<12}{seconds:>10.2f}{seconds / minutes:>16.2f}")
    total = sum(steps.values())
    print(f"{'total':<12}{total:>10.2f}{total / minutes:>16.2f}")
    render_ratio = render_only_s / baseline_s
    print(f"layouts: {', '.join(layouts)}")
    print(f"render:      ours {render_only_s:.2f} s vs plain ffmpeg, same outputs {baseline_s:.2f} s -> ratio {render_ratio:.3f} (goal <= 1.15)")
    print(f"             with speaker tracking: {(render_only_s + steps['tracking']) / baseline_s:.3f}; "
          f"vs the cheapest command (centre crop, {centre_s:.2f} s): {render_only_s / centre_s:.3f}")
    ours_t = min(steps["transcribe"], ours_again_s)
    print(f"transcribe:  ours {ours_t:.2f} s (best of 2) vs bare faster-whisper {bare_s:.2f} s (best of 2) -> ratio {ours_t / bare_s:.3f} (goal <= 1.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
