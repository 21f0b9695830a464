"""The clip engine end to end against the bare tools doing the same work, with a profile of ours.

    .venv/bin/python bench/pipeline.py [--minutes 6] [--rounds 2] [--clips 5]

The source is samples/talk.mp4 (espeak speech on a 1280x720 stage) looped to ``--minutes`` by
stream copy. Two sides, each a fresh process timed from start to exit:

- ours: ``clipflow process SOURCE --out DIR -n CLIPS`` (the real CLI command, in a child that
  only wraps the pipeline's steps with timers for the profile);
- bare: faster-whisper (same bundled model, device, compute type, threads, batch size, beam,
  VAD and word timestamps) on the video file, then one plain ffmpeg per clip writing the same
  three formats: the spans ours chose, input seek, one decode split three ways, the layout ours
  used (blurred background when no face was tracked, a centre crop otherwise), the same ASS
  captions (written before the clock starts) and the same x264/AAC settings; the same ffmpeg
  binary as ours.

The machine is shared, so the sides run back to back and alternate (ours, bare, bare, ours, ...);
each round gives a ratio and the spread of those is printed. The last line is the ratio of the
best time of each side:

    end-to-end ratio: N.NN (ours N s, bare N s)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "talk.mp4"
PROFILE_ENV = "CLIPFLOW_BENCH_PROFILE"


# --------------------------------------------------------------------------------------------
# ours: the CLI command with timers around the pipeline's steps


def _ours_child(argv: list[str]) -> None:
    """Run ``clipflow process`` in this process, writing per-step seconds to $CLIPFLOW_BENCH_PROFILE."""
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    import atexit
    import threading
    from collections import defaultdict

    from clipflow_worker.pipeline import clipper, render, transcribe

    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def timer(name: str, fn: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with lock:
                    spent[name] += time.perf_counter() - t0
                    calls[name] += 1

        return wrapped

    for module, attr, name in (
        (clipper, "probe_media", "probe"),
        (clipper, "extract_wav", "audio: extract wav"),
        (clipper, "read_wav", "audio: read + loudness"),
        (clipper, "loudness_envelope", "audio: read + loudness"),
        (clipper, "select_clips", "select"),
        (clipper, "key_moments", "select"),
        (clipper, "video_topics", "select"),
        (clipper, "track_speaker", "face tracking"),
        (clipper, "render_clip_variants", "render (ffmpeg, 3 formats + thumbnail)"),
        (clipper, "write_srt", "subtitles"),
        (clipper, "write_vtt", "subtitles"),
        (render, "read_geometry", "render: read geometry"),
        (transcribe.FasterWhisperEngine, "transcribe", "ASR (transcribe)"),
        (transcribe.FasterWhisperEngine, "pipeline", "ASR: model load (inside transcribe)"),
    ):
        if hasattr(module, attr):  # a step another change removed is simply not profiled
            setattr(module, attr, timer(name, getattr(module, attr)))
    imported = time.perf_counter() - started

    def dump() -> None:
        path = os.environ.get(PROFILE_ENV)
        if path:
            data = {"python start + imports": imported, "total (in process)": time.perf_counter() - started}
            data.update({k: v for k, v in spent.items()})
            Path(path).write_text(json.dumps({"seconds": data, "calls": dict(calls)}))

    atexit.register(dump)
    from clipflow_api.cli import app

    app(["process", *argv], prog_name="clipflow", standalone_mode=False)


def children_cpu() -> float:
    """CPU seconds of finished child processes and theirs (ffmpeg included): steadier than wall on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, list[float]] = {"ours": [], "bare": []}


def run_ours(source: Path, out: Path, clips: int, profile: Path) -> float:
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run(
        [sys.executable, __file__, "--child-ours", str(source), "--out", str(out), "-n", str(clips)],
        check=True, stdout=subprocess.DEVNULL, env={**os.environ, PROFILE_ENV: str(profile)},
    )  # fmt: skip
    CPU["ours"].append(children_cpu() - cpu)
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# bare: faster-whisper, then one ffmpeg per clip


def _bare_child(plan_path: str) -> None:
    """faster-whisper on the video file, then the plain ffmpeg commands of the plan, in turn."""
    started = time.perf_counter()
    plan = json.loads(Path(plan_path).read_text())
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    asr = plan["asr"]
    model = WhisperModel(asr["model"], device=asr["device"], compute_type=asr["compute_type"], cpu_threads=asr["cpu_threads"])
    segments, _ = BatchedInferencePipeline(model).transcribe(
        plan["source"], batch_size=asr["batch_size"], beam_size=asr["beam_size"], vad_filter=True, word_timestamps=True
    )
    list(segments)
    asr_done = time.perf_counter()
    for command in plan["commands"]:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    Path(plan["times"]).write_text(json.dumps({"asr": asr_done - started, "render": time.perf_counter() - asr_done}))


def bare_plan(source: Path, manifest: dict[str, Any], work: Path) -> dict[str, Any]:
    """The bare side's commands for the clips in ``manifest``, captions written now (off the clock)."""
    sys.path.insert(0, str(ROOT))
    from clipflow_worker.pipeline.captions import build_ass
    from clipflow_worker.pipeline.ffmpeg import ffmpeg_binary, safe_input
    from clipflow_worker.pipeline.render import EncodeSettings, ass_filter
    from clipflow_worker.pipeline.transcribe import get_engine
    from clipflow_worker.pipeline.types import FORMATS, Word

    engine = get_engine("faster-whisper", None)
    options = engine.options
    words = [Word.from_dict(w) for seg in manifest["transcript"]["segments"] for w in seg["words"]]
    enc = EncodeSettings()
    commands = []
    for n, clip in enumerate(manifest["clips"]):
        start, end = clip["start"], clip["end"]
        clip_words = [w for w in words if w.end > start and w.start < end]
        graph, outputs = ["[0:v]setpts=PTS-STARTPTS,split=3[s0][s1][s2]"], []
        for i, fmt in enumerate(FORMATS.values()):
            w, h = fmt.width, fmt.height
            ass = work / f"bare{n}_{i}.ass"
            ass.write_text(build_ass(clip_words, fmt, clip_start=start, clip_end=end, style=manifest["style"]), encoding="utf-8")
            if abs(w / h - 16 / 9) < 0.02:
                layout = f"scale={w}:{h},setsar=1"
            elif clip["reframed"]:
                ratio = f"{w}/{h}"
                layout = f"crop=w='trunc(min(iw,ih*{ratio})/2)*2':h=ih,scale={w}:{h},setsar=1"
            else:
                sw, sh = max(2, round(w / 8 / 2) * 2), max(2, round(h / 8 / 2) * 2)
                layout = (
                    f"split[a{i}][b{i}];"
                    f"[a{i}]scale={sw}:{sh}:force_original_aspect_ratio=increase:flags=bilinear,crop={sw}:{sh},"
                    f"boxblur=6:2,scale={w}:{h}:flags=bilinear,setsar=1[bg{i}];"
                    f"[b{i}]scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1[fg{i}];"
                    f"[bg{i}][fg{i}]overlay=x=(W-w)/2:y=(H-h)/2"
                )
            graph.append(f"[s{i}]{layout},{ass_filter(ass)},format=yuv420p[o{i}]")
            outputs += ["-map", f"[o{i}]", "-map", "0:a:0", "-c:v", "libx264", "-preset", enc.preset, "-crf", str(enc.crf),
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", enc.audio_bitrate, "-movflags", "+faststart",
                        str(work / f"bare{n}_{i}.mp4")]  # fmt: skip
        commands.append([
            ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            *safe_input(source, seek=start, duration=end - start), "-filter_complex", ";".join(graph), *outputs,
        ])  # fmt: skip
    return {
        "source": str(source),
        "asr": {
            "model": str(engine.model_path), "device": options.device,
            "compute_type": "int8" if options.compute_type == "auto" and options.device == "cpu" else options.compute_type,
            "cpu_threads": options.cpu_threads, "batch_size": options.batch_size, "beam_size": options.beam_size,
        },
        "commands": commands,
        "times": str(work / "bare_times.json"),
    }  # fmt: skip


def run_bare(plan: Path) -> float:
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run([sys.executable, __file__, "--child-bare", str(plan)], check=True, stdout=subprocess.DEVNULL)
    CPU["bare"].append(children_cpu() - cpu)
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------


def make_talk(dest: Path, minutes: float) -> Path:
    sys.path.insert(0, str(ROOT))
    from clipflow_worker.pipeline.ffmpeg import run_ffmpeg, safe_input
    from clipflow_worker.pipeline.probe import probe_media

    loops = max(0, int(minutes * 60 // probe_media(SAMPLE).duration))
    run_ffmpeg(["-stream_loop", str(loops), *safe_input(SAMPLE), "-t", str(minutes * 60), "-c", "copy", str(dest)], timeout=300)
    return dest


def print_profile(profile: dict[str, Any], manifest: dict[str, Any]) -> None:
    seconds, calls = profile["seconds"], profile["calls"]
    total = seconds.pop("total (in process)")
    minutes = manifest["duration"] / 60
    print(f"{'ours, by step (best run)':<42}{'seconds':>9}{'share':>8}{'s/src min':>11}{'calls':>7}")
    listed = 0.0
    for name, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        nested = name.startswith(("ASR: model load", "render: read geometry"))  # inside ASR / render
        listed += 0 if nested else s
        label = f"  {name}" if nested else name
        print(f"{label:<42}{s:>9.2f}{s / total:>8.1%}{s / minutes:>11.2f}{calls.get(name, 1):>7}")
    print(f"{'other (CLI, manifest, gaps)':<42}{total - listed:>9.2f}{(total - listed) / total:>8.1%}")
    print(f"{'total, in process':<42}{total:>9.2f}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-ours":
        _ours_child(sys.argv[2:])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--child-bare":
        _bare_child(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side (alternating)")
    parser.add_argument("--clips", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clipflow-bench-") as tmp:
        work = Path(tmp)
        source = make_talk(work / "talk.mp4", args.minutes)
        ours_s: list[float] = []
        bare_s: list[float] = []
        profiles: list[dict[str, Any]] = []
        manifest: dict[str, Any] = {}
        plan = work / "bare.json"

        def ours() -> None:
            out = work / f"ours{len(ours_s)}"
            profile = work / f"profile{len(ours_s)}.json"
            ours_s.append(run_ours(source, out, args.clips, profile))
            profiles.append(json.loads(profile.read_text()))
            manifest.update(json.loads((out / "manifest.json").read_text()))
            print(f"  ours {ours_s[-1]:6.1f} s", flush=True)

        bare_parts: list[dict[str, float]] = []

        def bare() -> None:
            bare_s.append(run_bare(plan))
            bare_parts.append(json.loads((work / "bare_times.json").read_text()))
            print(f"  bare {bare_s[-1]:6.1f} s", flush=True)

        ours()  # first: the bare side needs the spans ours chose
        plan.write_text(json.dumps(bare_plan(source, manifest, work)))
        bare()
        for r in range(1, args.rounds):  # ABBA order: each side runs first as often as second
            for side in (bare, ours) if r % 2 else (ours, bare):
                side()
    clip_seconds = sum(c["duration"] for c in manifest["clips"])
    layouts = sorted({"tracked crop" if c["reframed"] else "blurred background" for c in manifest["clips"]})
    print(f"source: {manifest['duration']:.0f} s talk; {len(manifest['clips'])} clips, {clip_seconds:.0f} s of clips "
          f"({', '.join(layouts)}); 9:16, 1:1, 16:9 each")  # fmt: skip
    print_profile(profiles[ours_s.index(min(ours_s))], manifest)
    best = profiles[ours_s.index(min(ours_s))]["seconds"]
    parts = bare_parts[bare_s.index(min(bare_s))]
    asr = best.get("ASR (transcribe)", 0.0)
    print(f"ASR:    ours {asr:.1f} s (model load included) vs bare faster-whisper {parts['asr']:.1f} s "
          f"(process start, import, model load, decode, transcribe) -> {asr / parts['asr']:.2f}")
    ours_render = best.get("render (ffmpeg, 3 formats + thumbnail)", 0.0) + best.get("face tracking", 0.0)
    print(f"render: ours {ours_render:.1f} s (face tracking + render) vs bare ffmpeg {parts['render']:.1f} s "
          f"-> {ours_render / parts['render']:.2f}")
    ratios = [o / b for o, b in zip(ours_s, bare_s)]
    print(f"runs: ours {', '.join(f'{s:.1f}' for s in ours_s)} s; bare {', '.join(f'{s:.1f}' for s in bare_s)} s")
    print(f"per-round ratios: {', '.join(f'{r:.2f}' for r in ratios)} (spread {min(ratios):.2f}-{max(ratios):.2f}); goal <= 1.20")
    print(f"CPU seconds (user + sys, every process): ours {', '.join(f'{s:.1f}' for s in CPU['ours'])}; "
          f"bare {', '.join(f'{s:.1f}' for s in CPU['bare'])} -> ratio {min(CPU['ours']) / min(CPU['bare']):.2f}")
    best_ours, best_bare = min(ours_s), min(bare_s)
    print(f"end-to-end ratio: {best_ours / best_bare:.2f} (ours {best_ours:.0f} s, bare {best_bare:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
