"""Rendering a clip into every output format with one ffmpeg process.

The source span is decoded once (``-ss`` before ``-i``), ``split`` into one branch per
format, and each branch is reframed (a time-varying crop that follows the speaker, or a
blurred-background fill when no face path exists), scaled to the exact output size,
captioned (libass) and watermarked before its own libx264/AAC encoder. A music bed, when
given, is ducked under the speech with ``sidechaincompress`` and mixed once for all outputs.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import av
import cv2

from clipflow_api.models.enums import CaptionStyle, WatermarkPosition

from .captions import build_ass, fonts_dir
from .faces import CropPath
from .ffmpeg import run_ffmpeg, safe_input
from .probe import REFERENCING_FORMATS  # one list of playlist-like formats for the whole pipeline
from .types import FORMATS, BrandKit, MediaError, OutputFormat, ProgressFn, Word, no_progress

THUMBNAIL_KEY = "thumbnail"
MAX_CROP_SEGMENTS = 32  # bounds the crop expression that ffmpeg evaluates on every frame
_WATERMARK_SIZE = 0.16  # watermark width as a share of the output's short side
_MUSIC_LEVEL = 0.35  # music gain before ducking: a bed, not a soundtrack
_AVCOL_RANGE_JPEG = 2  # libavutil's value for full-range video
_BLUR_DOWNSCALE = 8  # blur a small copy: same look, a fraction of the cost of a full-size blur


@dataclass(frozen=True)
class EncodeSettings:
    """Encoder settings shared by every output of a render."""

    preset: str = "veryfast"
    crf: int = 21
    audio_bitrate: str = "128k"
    # x264 threads per output; None shares the machine's cores among the outputs. The outputs
    # encode side by side, so each needs few threads: x264's default (1.5 per core, each)
    # oversubscribes a small worker three times over and cost ~20% more wall time there.
    threads: int | None = None

    def x264_threads(self, outputs: int) -> int:
        """Threads for each of ``outputs`` libx264 encoders running at once."""
        return self.threads or max(1, _cpu_count() // max(1, outputs))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (containers, taskset)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class SourceGeometry:
    """What the filter graph must know about the source: upright size, length and audio."""

    display_width: int
    display_height: int
    duration: float  # seconds; 0.0 when the container does not say
    has_audio: bool
    sample_aspect: float = 1.0  # pixel width / height as stored (anamorphic video is not 1)
    full_range: bool = False  # 0-255 luma, as phones often record

    @property
    def aspect(self) -> float:
        return self.display_width / self.display_height


def read_geometry(source: str | Path) -> SourceGeometry:
    """Upright (display matrix applied, square pixels) size of the first frame, duration and audio presence."""
    try:
        container = av.open(os.fspath(source), options={"protocol_whitelist": "file"})
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError("The video could not be opened for rendering.") from exc
    with container:
        _refuse_playlists(container)
        if not container.streams.video:
            raise MediaError("This file has no video stream.")
        stream = container.streams.video[0]
        try:
            frame = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise MediaError("The video's pictures could not be decoded; the file may be corrupt.") from exc
        if frame is None:
            raise MediaError("The video has no picture to render.")
        sar = float(stream.sample_aspect_ratio or 1) or 1.0
        width = round(frame.width * sar)
        # MediaInfo.rotation would do, but frame.rotation is what the decoder really applies.
        rotated = (int(frame.rotation or 0) // 90) % 2 == 1
        return SourceGeometry(
            display_width=frame.height if rotated else width,
            display_height=width if rotated else frame.height,
            duration=container.duration / av.time_base if container.duration else 0.0,
            has_audio=bool(container.streams.audio),
            sample_aspect=sar,
            full_range=frame.format.name.startswith("yuvj") or int(frame.color_range or 0) == _AVCOL_RANGE_JPEG,
        )


def check_music(path: str | Path) -> None:
    """Refuse a music bed that is not a plain local audio file (playlists could pull in other files)."""
    try:
        container = av.open(os.fspath(path), options={"protocol_whitelist": "file"})
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError("The music track could not be opened; upload an MP3, M4A or WAV file.") from exc
    with container:
        _refuse_playlists(container)
        if not container.streams.audio:
            raise MediaError("The music track has no sound.")


def _refuse_playlists(container: av.container.InputContainer) -> None:
    if set(container.format.name.split(",")) & REFERENCING_FORMATS:
        raise MediaError("Playlists and file lists are not accepted; upload the media file itself.")


@dataclass(frozen=True)
class _Request:
    source: Path
    start: float
    duration: float
    targets: list[OutputFormat]
    out_dir: Path
    work: Path  # scratch folder for captions and the normalised watermark
    words: Sequence[Word]
    style: str | None
    brand: BrandKit | None
    crop_path: CropPath | None
    music: Path | None
    encode: EncodeSettings
    thumbnail: bool
    stem: str


def render_clip_variants(
    source: str | Path,
    start: float,
    end: float,
    out_dir: str | Path,
    formats: Sequence[str] = ("9:16", "1:1", "16:9"),
    *,
    words: Sequence[Word] = (),
    style: str | None = CaptionStyle.HORMOZI,
    brand: BrandKit | None = None,
    crop_path: CropPath | None = None,
    music: str | Path | None = None,
    encode: EncodeSettings = EncodeSettings(),
    thumbnail: bool = True,
    stem: str = "clip",
    timeout: float = 900.0,
    progress: ProgressFn = no_progress,
) -> dict[str, Path]:
    """Render ``[start, end)`` of ``source`` into each format (plus ``"thumbnail"``, a JPEG) with one ffmpeg run."""
    targets = _formats(formats)
    if brand and brand.watermark_path:
        _watermark_position(targets[0], brand.watermark_position)  # refuse a bad position before any work
    geometry = read_geometry(source)
    if music is not None:
        check_music(music)
    if geometry.duration:
        end = min(end, geometry.duration)  # a span that overruns the file would lose its thumbnail
    if end - start <= 0:
        raise MediaError("The clip has no length (its end is not after its start, or it starts after the video ends).")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="clipflow-render-"))
    try:
        request = _Request(
            source=Path(source), start=start, duration=end - start, targets=targets, out_dir=out_dir, work=work,
            words=words, style=style, brand=brand, crop_path=crop_path, music=Path(music) if music else None,
            encode=encode, thumbnail=thumbnail, stem=stem,
        )  # fmt: skip
        plan = _RenderPlan(request, geometry)
        run_ffmpeg(plan.arguments(), timeout=timeout, what="Rendering", progress=progress, duration=request.duration)
        return plan.commit()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for leftover in out_dir.glob(f"{stem}_*.part.*"):
            leftover.unlink(missing_ok=True)


def _formats(names: Sequence[str]) -> list[OutputFormat]:
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ValueError(f"Unknown output formats {unknown}; choose from {', '.join(FORMATS)}.")
    return [FORMATS[n] for n in dict.fromkeys(names)]


def output_name(stem: str, fmt: OutputFormat) -> str:
    """File name of one rendered format, e.g. ``clip_9x16.mp4``."""
    return f"{stem}_{fmt.name.replace(':', 'x')}.mp4"


class _RenderPlan:
    """The ffmpeg arguments for one render, and the files they produce."""

    def __init__(self, request: _Request, geometry: SourceGeometry) -> None:
        self.request = request
        self.geometry = geometry
        self.outputs: dict[str, tuple[Path, Path]] = {}  # key -> (partial file, final file)
        self.inputs: list[str] = []
        self.graph: list[str] = []

    def arguments(self) -> list[str]:
        r, n = self.request, len(self.request.targets)
        self.inputs = safe_input(r.source, seek=r.start, duration=r.duration)
        # Crop maths assumes square pixels: widen anamorphic video once, before the split.
        square = "" if abs(self.geometry.sample_aspect - 1) < 0.01 else "scale='trunc(iw*sar/2)*2':ih,setsar=1,"
        self.graph = [f"[0:v]setpts=PTS-STARTPTS,{square}split={n}{_labels('src', n)}"]
        audio = self._add_music() if r.music else None
        watermarks = self._add_watermark() if r.brand and r.brand.watermark_path else [None] * n
        thumb_index = _thumbnail_branch(r.targets) if r.thumbnail else None
        outputs: list[str] = []
        for i, fmt in enumerate(r.targets):
            self.graph.append(f"[src{i}]{self._reframe(i, fmt)}[v{i}]")
            label = f"[v{i}]"
            if i == thumb_index:
                self.graph.append(f"[v{i}]split[v{i}main][thumbsrc]")
                # trim (not select) ends the branch after one frame, so it stops costing anything; its
                # own scale lets the JPEG take full range without dragging the video along.
                self.graph.append(f"[thumbsrc]trim=start={self._thumbnail_time():.3f},trim=end_frame=1,scale[thumb]")
                label = f"[v{i}main]"
            label = self._decorate(i, fmt, label, watermarks[i])
            outputs += self._video_output(fmt, label, audio[i] if audio else None)
        if thumb_index is not None:
            outputs += self._thumbnail_output()
        return [*self.inputs, "-filter_complex", ";".join(self.graph), *outputs]

    def _next_input(self) -> int:
        return self.inputs.count("-i")

    def _add_music(self) -> list[str]:
        r, n = self.request, len(self.request.targets)
        index = self._next_input()
        assert r.music is not None
        self.inputs += ["-stream_loop", "-1", *safe_input(r.music, duration=r.duration)]
        self.graph.append(_music_graph(self.geometry.has_audio, index, r.duration, n))
        return [f"[aout{i}]" for i in range(n)]

    def _add_watermark(self) -> list[str | None]:
        r = self.request
        assert r.brand is not None and r.brand.watermark_path
        index = self._next_input()
        image = _normalised_watermark(r.brand.watermark_path, r.work)
        self.inputs += ["-f", "image2", "-pattern_type", "none", *safe_input(image)]
        self.graph.append(_watermark_split(index, r.brand.watermark_opacity, r.targets))
        return [f"[wm{i}]" for i in range(len(r.targets))]

    def _reframe(self, i: int, fmt: OutputFormat) -> str:
        target = fmt.width / fmt.height
        size = f"{fmt.width}:{fmt.height}"
        if abs(target / self.geometry.aspect - 1) < 0.02:
            return f"scale={size},setsar=1"
        if target < self.geometry.aspect and self.request.crop_path is not None:
            x = crop_x_expression(self.request.crop_path, MAX_CROP_SEGMENTS)
            return f"crop=w='trunc(min(iw,ih*{target:.6f})/2)*2':h=ih:x='{x}':y=0,scale={size},setsar=1"
        return blurred_fill(fmt, tag=str(i))

    def _decorate(self, i: int, fmt: OutputFormat, label: str, watermark: str | None) -> str:
        r = self.request
        steps: list[str] = []
        if r.style and r.words:
            ass = r.work / f"captions_{i}.ass"
            script = build_ass(
                r.words, fmt, clip_start=r.start, clip_end=r.start + r.duration, style=r.style, brand=r.brand
            )
            ass.write_text(script, encoding="utf-8")
            steps.append(ass_filter(ass))
        # Players expect limited range; converting only full-range sources keeps the rest free.
        steps.append("scale=out_range=tv,format=yuv420p" if self.geometry.full_range else "format=yuv420p")
        self.graph.append(f"{label}{','.join(steps)}[dec{i}]")
        if watermark is None:
            return f"[dec{i}]"
        x, y = _watermark_position(fmt, r.brand.watermark_position if r.brand else WatermarkPosition.TOP_RIGHT)
        self.graph.append(f"[dec{i}]{watermark}overlay=x='{x}':y='{y}':format=auto,format=yuv420p[out{i}]")
        return f"[out{i}]"

    def _video_output(self, fmt: OutputFormat, label: str, audio_label: str | None) -> list[str]:
        r = self.request
        final = r.out_dir / output_name(r.stem, fmt)
        partial = final.with_name(final.stem + ".part.mp4")
        self.outputs[fmt.name] = (partial, final)
        if audio_label is None and self.geometry.has_audio:
            audio_label = "0:a:0"
        audio = ["-map", audio_label, "-c:a", "aac", "-b:a", r.encode.audio_bitrate] if audio_label else []
        threads = r.encode.x264_threads(len(r.targets))
        return [
            "-map", label, "-c:v", "libx264", "-preset", r.encode.preset, "-crf", str(r.encode.crf),
            "-threads:v", str(threads), "-pix_fmt", "yuv420p", *audio, "-movflags", "+faststart", str(partial),
        ]  # fmt: skip

    def _thumbnail_output(self) -> list[str]:
        final = self.request.out_dir / f"{self.request.stem}_thumb.jpg"
        partial = final.with_name(final.stem + ".part.jpg")
        self.outputs[THUMBNAIL_KEY] = (partial, final)
        return ["-map", "[thumb]", "-frames:v", "1", "-q:v", "3", "-update", "1", str(partial)]

    def _thumbnail_time(self) -> float:
        # Largest frontal face is the most "looking at the camera" moment; else a third in.
        r = self.request
        moment = r.crop_path.best_time if r.crop_path else r.duration / 3
        return min(max(0.0, moment), max(0.0, r.duration - 0.2))

    def commit(self) -> dict[str, Path]:
        """Move finished files into place (a rerun overwrites, a failed run leaves none)."""
        result = {}
        for key, (partial, final) in self.outputs.items():
            if not partial.is_file() or partial.stat().st_size == 0:
                raise MediaError(f"Rendering produced no {key} output.")
            os.replace(partial, final)
            result[key] = final
        return result


def _thumbnail_branch(targets: list[OutputFormat]) -> int:
    names = [t.name for t in targets]
    return names.index("9:16") if "9:16" in names else 0


def crop_x_expression(path: CropPath, max_segments: int = MAX_CROP_SEGMENTS) -> str:
    """ffmpeg crop ``x`` expression: the path's piecewise-linear centre, clamped inside the frame."""
    keyframes = _bounded(list(path.keyframes), max_segments + 1)
    centre = f"{keyframes[-1][1]:.4f}"
    # Built from the last segment outwards: if(lt(t,t1), lerp(k0,k1), if(lt(t,t2), ...)).
    for (t0, x0), (t1, x1) in reversed(list(zip(keyframes, keyframes[1:]))):
        if t1 <= t0:
            continue
        slope = (x1 - x0) / (t1 - t0)
        lerp = f"{x0:.4f}+{slope:.6f}*(t-{t0:.3f})"
        centre = f"if(lt(t\\,{t1:.3f})\\,{lerp}\\,{centre})"
    first_t, first_x = keyframes[0]
    centre = f"if(lt(t\\,{first_t:.3f})\\,{first_x:.4f}\\,{centre})"
    return f"clip(iw*({centre})-ow/2\\,0\\,iw-ow)"


def _bounded(keyframes: list[tuple[float, float]], max_points: int) -> list[tuple[float, float]]:
    if len(keyframes) <= max_points:
        return keyframes
    # Even subsampling keeps the ends; faces.simplify_path already keeps paths far below this.
    step = (len(keyframes) - 1) / (max_points - 1)
    return [keyframes[round(i * step)] for i in range(max_points)]


def blurred_fill(fmt: OutputFormat, tag: str = "") -> str:
    """Filter chain: the whole frame fitted in the middle over a blurred, zoomed copy of itself."""
    w, h = fmt.width, fmt.height
    sw, sh = _even(w / _BLUR_DOWNSCALE), _even(h / _BLUR_DOWNSCALE)
    return (
        f"split[bgsrc{tag}][fgsrc{tag}];"
        # Bilinear is plenty for a picture that is blurred anyway, and cheaper than bicubic.
        f"[bgsrc{tag}]scale={sw}:{sh}:force_original_aspect_ratio=increase:flags=bilinear,crop={sw}:{sh},boxblur=6:2,"
        f"scale={w}:{h}:flags=bilinear,setsar=1[bg{tag}];"
        f"[fgsrc{tag}]scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1[fg{tag}];"
        f"[bg{tag}][fg{tag}]overlay=x=(W-w)/2:y=(H-h)/2"
    )


def _labels(prefix: str, n: int) -> str:
    return "".join(f"[{prefix}{i}]" for i in range(n))


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _music_graph(has_speech: bool, music_input: int, duration: float, n: int) -> str:
    outs = _labels("aout", n)
    music = f"[{music_input}:a]aresample=48000,aformat=channel_layouts=stereo,volume={_MUSIC_LEVEL}"
    if not has_speech:
        return f"{music},atrim=0:{duration:.3f},asplit={n}{outs}"
    return (
        "[0:a]asetpts=PTS-STARTPTS,aresample=48000,aformat=channel_layouts=stereo,asplit=2[speech][sidechain];"
        f"{music}[music];"
        # The speech drives the compressor: the music dips while someone talks, returns in pauses.
        "[music][sidechain]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked];"
        f"[speech][ducked]amix=inputs=2:duration=first:normalize=0,asplit={n}{outs}"
    )


def _normalised_watermark(path: str | Path, work: Path) -> Path:
    # Decoding the brand image here (any format OpenCV reads) and handing ffmpeg a PNG we wrote
    # means ffmpeg never parses the uploaded file itself, and '%' in names cannot become a pattern.
    image = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim not in (2, 3):
        raise MediaError("The brand watermark image could not be read; upload a PNG or JPEG.")
    out = work / "watermark.png"
    cv2.imwrite(os.fspath(out), image)
    return out


def _watermark_split(input_index: int, opacity: float, targets: list[OutputFormat]) -> str:
    alpha = min(1.0, max(0.0, opacity))
    n = len(targets)
    parts = [f"[{input_index}:v]format=rgba,colorchannelmixer=aa={alpha:.3f},split={n}{_labels('wmraw', n)}"]
    for i, fmt in enumerate(targets):
        width = _even(_WATERMARK_SIZE * min(fmt.width, fmt.height))
        parts.append(f"[wmraw{i}]scale={width}:-2[wm{i}]")
    return ";".join(parts)


# Overlay x/y expressions per position, inside the safe zone: the platform's own buttons would
# cover a watermark in the margins.
WATERMARK_POSITIONS: dict[str, Callable[[OutputFormat], tuple[str, str]]] = {
    WatermarkPosition.TOP_LEFT: lambda f: (str(f.safe_left), str(f.safe_top)),
    WatermarkPosition.TOP_RIGHT: lambda f: (f"W-w-{f.safe_right}", str(f.safe_top)),
    WatermarkPosition.BOTTOM_LEFT: lambda f: (str(f.safe_left), f"H-h-{f.safe_bottom}"),
    WatermarkPosition.BOTTOM_RIGHT: lambda f: (f"W-w-{f.safe_right}", f"H-h-{f.safe_bottom}"),
    WatermarkPosition.CENTER: lambda f: ("(W-w)/2", "(H-h)/2"),
}


def _watermark_position(fmt: OutputFormat, position: str) -> tuple[str, str]:
    place = WATERMARK_POSITIONS.get(position)
    if place is None:
        raise ValueError(f"Unknown watermark position {position!r}; choose one of {', '.join(WATERMARK_POSITIONS)}.")
    return place(fmt)


def ass_filter(path: Path) -> str:
    """The ``ass`` filter for a script file, with our fonts folder and paths escaped for a filtergraph."""
    option = f"ass=filename={_filter_value(str(path))}"
    fonts = fonts_dir()
    if fonts is not None:
        option += f":fontsdir={_filter_value(str(fonts))}"
    return option


def _filter_value(value: str) -> str:
    # Two levels: the option value (':' '\' '\'' escaped), then the filtergraph ('[' ']' ',' ';').
    escaped = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", escaped)


