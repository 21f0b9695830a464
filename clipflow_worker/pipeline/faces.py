"""Speaker tracking for reframing: where to centre a narrow crop over a clip.

We sample the span at a few frames per second (decoding once, seeking on input, downscaled),
detect frontal faces with OpenCV's Haar cascade, pick the main face per sample (the most
persistent face track, weighted by size) and turn its centre into a smoothed, piecewise-linear
path that the renderer feeds to ffmpeg's crop filter. A span where faces are rare yields
``None`` so the renderer falls back to the blurred-background layout.
"""

from __future__ import annotations

import bisect
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

import av
import cv2
import numpy as np

from .types import MediaError, ProgressFn, no_progress

HAAR_CASCADE = "haarcascade_frontalface_default.xml"
_DEBLOCKING_CODECS = frozenset({"h264", "hevc"})  # decoders that honour skip_loop_filter


@dataclass(frozen=True)
class FaceBox:
    """A detected face, normalised to 0-1 of the upright (display) frame."""

    x: float
    y: float
    w: float
    h: float
    score: float = 1.0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def area(self) -> float:
        return self.w * self.h


@dataclass(frozen=True)
class FaceSample:
    """The faces seen at one instant, ``t`` seconds after the clip start."""

    t: float
    faces: tuple[FaceBox, ...]


@dataclass(frozen=True)
class SampledSpan:
    """Face samples of a span plus the upright frame size they were measured on."""

    display_width: int
    display_height: int
    samples: tuple[FaceSample, ...]
    # False when sampling stopped early because too few samples could still see a face
    # (``sample_faces(min_face_ratio=...)``): the span then has no crop path.
    complete: bool = True

    @property
    def aspect(self) -> float:
        return self.display_width / self.display_height if self.display_height else 1.0


@dataclass(frozen=True)
class CropPath:
    """Crop centre over a clip: (clip seconds, centre x as 0-1 of display width), linear between."""

    keyframes: tuple[tuple[float, float], ...]
    aspect: float  # output width / height the path was smoothed for
    face_ratio: float  # share of samples that saw a face
    best_time: float = 0.0  # clip seconds of the largest face: a good thumbnail moment

    def centre_at(self, t: float) -> float:
        """Interpolated crop centre at clip time ``t``."""
        times = [k[0] for k in self.keyframes]
        i = bisect.bisect_right(times, t)
        if i == 0:
            return self.keyframes[0][1]
        if i == len(self.keyframes):
            return self.keyframes[-1][1]
        (t0, x0), (t1, x1) = self.keyframes[i - 1], self.keyframes[i]
        return x0 + (x1 - x0) * (t - t0) / (t1 - t0) if t1 > t0 else x1

    def to_dict(self) -> dict[str, Any]:
        return {
            "keyframes": [[t, x] for t, x in self.keyframes],
            "aspect": self.aspect,
            "face_ratio": self.face_ratio,
            "best_time": self.best_time,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CropPath:
        return cls(
            keyframes=tuple((float(t), float(x)) for t, x in d["keyframes"]),
            aspect=float(d["aspect"]),
            face_ratio=float(d["face_ratio"]),
            best_time=float(d.get("best_time", 0.0)),
        )


class FaceDetector(Protocol):
    pixel_format: str  # what ``detect`` wants: "gray" or "bgr24"

    def detect(self, image: np.ndarray) -> list[FaceBox]: ...


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade: no model download, a few ms per small frame."""

    pixel_format = "gray"

    def __init__(self, cascade_path: str | None = None, *, min_face: float = 0.06, min_neighbors: int = 5) -> None:
        path = cascade_path or os.path.join(cv2.data.haarcascades, HAAR_CASCADE)  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise MediaError(f"The face model could not be loaded from {path}.")
        self._min_face = min_face  # of frame height: smaller faces are audience, not the speaker
        self._min_neighbors = min_neighbors

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Faces in a grayscale frame, normalised to the frame size."""
        h, w = image.shape[:2]
        side = max(16, int(self._min_face * h))
        found = self._cascade.detectMultiScale(
            cv2.equalizeHist(image), scaleFactor=1.1, minNeighbors=self._min_neighbors, minSize=(side, side)
        )
        return [
            FaceBox(float(x) / w, float(y) / h, float(fw) / w, float(fh) / h)
            for x, y, fw, fh in np.asarray(found).reshape(-1, 4)
        ]


@dataclass
class _Track:
    last: FaceBox
    weight: float = 0.0  # sum of face sizes (sqrt of area): presence counts more than closeness
    faces: dict[int, FaceBox] = field(default_factory=dict)  # sample index -> face


def sample_faces(
    source: str | Path,
    start: float,
    end: float,
    *,
    fps: float = 4.0,
    analysis_width: int = 480,
    detector: FaceDetector | None = None,
    timeout: float = 300.0,
    min_face_ratio: float | None = None,
    progress: ProgressFn = no_progress,
) -> SampledSpan:
    """Decode ``[start, end)`` once at ``fps`` samples per second and detect faces in each sample.

    With ``min_face_ratio``, sampling stops (``complete=False``) as soon as so many samples
    saw no face that the span can no longer reach that share: a span without a speaker
    (slides, a stage, b-roll) costs about half a span of decoding instead of all of it.
    """
    detector = detector or HaarFaceDetector()
    span = max(0.0, end - start)
    # The grid below yields at most span * fps + 1 samples; one more of margin keeps this exact.
    max_misses = None if min_face_ratio is None else (1.0 - min_face_ratio) * (span * fps + 2)
    misses = 0
    deadline = time.monotonic() + timeout
    try:
        container = av.open(os.fspath(source), options={"protocol_whitelist": "file"})
    except (av.FFmpegError, ValueError) as exc:
        raise MediaError("The video could not be opened for face tracking.") from exc
    samples: list[FaceSample] = []
    size = (0, 0)
    with container:
        if not container.streams.video:
            raise MediaError("This file has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if stream.codec_context.name in _DEBLOCKING_CODECS:
            # The deblocking filter smooths block edges for the eye; a face detector on a
            # downscaled copy does not need it, and skipping it makes decoding ~30% cheaper.
            stream.codec_context.options = {**stream.codec_context.options, "skip_loop_filter": "all"}
        origin = (container.start_time or 0) / av.time_base  # ffmpeg's -ss counts from here too
        _seek(container, stream, origin + start)
        next_t = 0.0
        for frame in container.decode(stream):
            if frame.pts is None or frame.time is None:
                continue
            t = frame.time - origin - start
            if t >= span:
                break
            # Half a frame of slack so 30 fps frames land on a 4 fps grid without drift.
            if t + 0.02 < next_t:
                continue
            if time.monotonic() > deadline:
                raise MediaError(f"Face tracking took longer than {int(timeout)} seconds and was stopped.")
            image = _upright(frame, analysis_width, detector.pixel_format)
            size = (image.shape[1], image.shape[0])
            samples.append(FaceSample(t=max(0.0, t), faces=tuple(detector.detect(image))))
            next_t = max(next_t + 1.0 / fps, t + 0.5 / fps)
            progress(min(1.0, t / span) if span else 1.0, "finding the speaker")
            misses += not samples[-1].faces
            if max_misses is not None and misses > max_misses:
                return SampledSpan(size[0], size[1], tuple(samples), complete=False)
    return SampledSpan(display_width=size[0], display_height=size[1], samples=tuple(samples))


def _seek(container: av.container.InputContainer, stream: av.video.stream.VideoStream, seconds: float) -> None:
    if seconds <= 0 or stream.time_base is None:
        return
    # Backward to the keyframe before the target; frames up to the target are decoded and skipped.
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True)


def _upright(frame: av.VideoFrame, width: int, pixel_format: str) -> np.ndarray:
    rotation = int(getattr(frame, "rotation", 0) or 0)
    quarter_turns = (rotation // 90) % 4
    # The stored frame is rotated to display it; scale the side that ends up horizontal.
    stored_w, stored_h = frame.width, frame.height
    display_w = stored_h if quarter_turns % 2 else stored_w
    scale = min(1.0, width / display_w)
    out_w = max(2, int(round(stored_w * scale / 2)) * 2)
    out_h = max(2, int(round(stored_h * scale / 2)) * 2)
    image = frame.reformat(width=out_w, height=out_h, format=pixel_format).to_ndarray()
    # frame.rotation is counter-clockwise, like np.rot90 with positive k.
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image


def main_faces(samples: Sequence[FaceSample]) -> list[FaceBox | None]:
    """Per sample, the face of the most persistent track (face sizes summed over the span)."""
    best: list[tuple[float, FaceBox] | None] = [None] * len(samples)
    for track in _link_tracks(samples):
        for index, face in track.faces.items():
            current = best[index]
            if current is None or track.weight > current[0]:
                best[index] = (track.weight, face)
    return [b[1] if b else None for b in best]


def _link_tracks(samples: Sequence[FaceSample]) -> list[_Track]:
    tracks: list[_Track] = []
    for index, sample in enumerate(samples):
        taken: set[int] = set()
        # Big faces first: they claim their track before a smaller nearby false positive does.
        for face in sorted(sample.faces, key=lambda f: -f.area):
            track = _nearest_track(tracks, face, taken)
            if track is None:
                track = _Track(last=face)
                tracks.append(track)
            taken.add(id(track))
            track.last = face
            track.weight += face.area**0.5
            track.faces[index] = face
    return tracks


def _nearest_track(tracks: list[_Track], face: FaceBox, taken: set[int]) -> _Track | None:
    best, best_distance = None, float("inf")
    for track in tracks:
        if id(track) in taken:
            continue
        distance = abs(track.last.cx - face.cx) + abs(track.last.cy - face.cy)
        # A face moves less than its own width between samples a quarter second apart.
        if distance < max(track.last.w, face.w) and distance < best_distance:
            best, best_distance = track, distance
    return best


def smooth_centres(
    raw: Sequence[float | None],
    *,
    median_window: int = 5,
    dead_zone: float = 0.05,
    ease: float = 0.35,
    lookahead: int = 2,
) -> list[float]:
    """Fill gaps, median-filter outliers, then move a virtual camera with a dead zone and easing."""
    filled = _fill_gaps(raw)
    if not filled:
        return []
    filtered = _median(filled, median_window)
    # Offline, so the camera may look ahead: aiming at a later target cancels the easing lag.
    ahead = filtered[lookahead:] + [filtered[-1]] * min(lookahead, len(filtered))
    return _camera(ahead, dead_zone, ease)


def _camera(targets: Sequence[float], dead_zone: float, ease: float) -> list[float]:
    position, moving, path = targets[0], False, []
    for target in targets:
        error = target - position
        # Hysteresis: start moving past the dead zone, keep moving until (nearly) re-centred.
        if abs(error) > dead_zone:
            moving = True
        elif abs(error) < dead_zone / 5:
            moving = False
        if moving:
            position += ease * error
        path.append(position)
    return path


def _fill_gaps(raw: Sequence[float | None]) -> list[float]:
    known = [v for v in raw if v is not None]
    if not known:
        return []
    out, last = [], known[0]
    for value in raw:
        last = value if value is not None else last
        out.append(last)
    return out


def _median(values: list[float], window: int) -> list[float]:
    half = max(0, window // 2)
    arr = np.asarray(values, dtype=float)
    return [float(np.median(arr[max(0, i - half) : i + half + 1])) for i in range(len(arr))]


def simplify_path(
    points: Sequence[tuple[float, float]], *, tolerance: float = 0.01, max_points: int = 24
) -> list[tuple[float, float]]:
    """Fewest keyframes (Ramer-Douglas-Peucker) within ``tolerance``, loosened until at most ``max_points``."""
    if len(points) <= 2:
        return list(points)
    kept = _rdp(points, tolerance)
    while len(kept) > max(2, max_points):
        tolerance *= 1.5
        kept = _rdp(points, tolerance)
    return kept


def _rdp(points: Sequence[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (t0, x0), (t1, x1) = points[first], points[last]
        worst, worst_error = -1, tolerance
        for i in range(first + 1, last):
            t, x = points[i]
            expected = x0 + (x1 - x0) * (t - t0) / (t1 - t0) if t1 > t0 else x0
            if abs(x - expected) > worst_error:
                worst, worst_error = i, abs(x - expected)
        if worst >= 0:
            keep[worst] = True
            stack += [(first, worst), (worst, last)]
    return [p for p, k in zip(points, keep) if k]


def crop_path_from_samples(
    span: SampledSpan,
    *,
    aspect: float = 9 / 16,
    min_face_ratio: float = 0.5,
    max_keyframes: int = 24,
) -> CropPath | None:
    """Turn face samples into a smoothed crop path for output ``aspect`` (w/h); None when faces are rare."""
    samples = span.samples
    if not samples or not span.complete:
        return None
    faces = main_faces(samples)
    seen = sum(f is not None for f in faces)
    face_ratio = seen / len(samples)
    if face_ratio < min_face_ratio:
        return None
    crop_width = min(1.0, aspect / span.aspect)  # crop width as a share of the source width
    centres = smooth_centres([f.cx if f else None for f in faces], dead_zone=0.15 * crop_width)
    low, high = crop_width / 2, 1 - crop_width / 2
    points = [(round(s.t, 3), round(min(high, max(low, x)), 4)) for s, x in zip(samples, centres)]
    best = max(((s.t, f) for s, f in zip(samples, faces) if f is not None), key=lambda pair: pair[1].area)[0]
    return CropPath(
        keyframes=tuple(simplify_path(points, tolerance=0.01, max_points=max_keyframes)),
        aspect=aspect,
        face_ratio=round(face_ratio, 3),
        best_time=round(best, 3),
    )


def track_speaker(
    source: str | Path,
    start: float,
    end: float,
    *,
    aspect: float = 9 / 16,
    fps: float = 4.0,
    detector: FaceDetector | None = None,
    min_face_ratio: float = 0.5,
    timeout: float = 300.0,
    progress: ProgressFn = no_progress,
) -> CropPath | None:
    """Follow the main face over a source span; None means "use the blurred-background layout"."""
    span = sample_faces(
        source, start, end, fps=fps, detector=detector, timeout=timeout, min_face_ratio=min_face_ratio, progress=progress
    )
    return crop_path_from_samples(span, aspect=aspect, min_face_ratio=min_face_ratio)
