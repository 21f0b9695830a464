"""Speaker tracking: real Haar detections on drawn faces, and the path maths on exact numbers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from clipflow_worker.pipeline.faces import (
    CropPath,
    FaceBox,
    FaceSample,
    HaarFaceDetector,
    SampledSpan,
    crop_path_from_samples,
    main_faces,
    sample_faces,
    simplify_path,
    smooth_centres,
    track_speaker,
)
from clipflow_worker.pipeline.ffmpeg import ffmpeg_binary
from clipflow_worker.pipeline.types import MediaError

FPS = 10


def draw_face(img: np.ndarray, cx: int, cy: int, size: int) -> None:
    """A crude cartoon face with the light/dark pattern (brows, eyes, nose, mouth) Haar keys on."""
    cv2.ellipse(img, (cx, cy), (size // 2, int(size * 0.65)), 0, 0, 360, (150, 180, 220), -1)
    eye_y, eye_dx = cy - int(size * 0.12), int(size * 0.2)
    for dx in (-eye_dx, eye_dx):
        cv2.ellipse(
            img, (cx + dx, eye_y - int(size * 0.12)), (int(size * 0.13), int(size * 0.03)), 0, 0, 360, (40, 40, 60), -1
        )
        cv2.ellipse(img, (cx + dx, eye_y), (int(size * 0.09), int(size * 0.054)), 0, 0, 360, (30, 30, 30), -1)
    cv2.ellipse(img, (cx, cy + int(size * 0.12)), (int(size * 0.06), int(size * 0.12)), 0, 0, 360, (120, 150, 190), -1)
    cv2.ellipse(img, (cx, cy + int(size * 0.33)), (int(size * 0.18), int(size * 0.05)), 0, 0, 360, (60, 60, 140), -1)
    cv2.ellipse(img, (cx, cy - int(size * 0.5)), (int(size * 0.52), int(size * 0.25)), 0, 180, 360, (20, 20, 30), -1)


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for image in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode())
    return path


def face_frames(centres_x: list[int], width: int = 640, height: int = 360, size: int = 100) -> list[np.ndarray]:
    frames = []
    for cx in centres_x:
        img = np.full((height, width, 3), 90, np.uint8)
        draw_face(img, cx, height // 2, size)
        frames.append(img)
    return frames


@pytest.fixture(scope="module")
def moving_face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 4 s at 10 fps: face still at x=160 for 1 s, slides to x=480 over 2 s, still for 1 s.
    xs = [160 + int(320 * min(1.0, max(0.0, (i - 10) / 20))) for i in range(40)]
    return write_video(tmp_path_factory.mktemp("faces") / "moving.mp4", face_frames(xs))


def test_haar_detects_the_drawn_face_where_it_was_drawn() -> None:
    # given
    img = np.full((360, 640, 3), 90, np.uint8)
    draw_face(img, 400, 180, 100)
    # when
    faces = HaarFaceDetector().detect(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    # then
    assert len(faces) == 1
    assert faces[0].cx == pytest.approx(400 / 640, abs=0.02)
    assert faces[0].cy == pytest.approx(180 / 360, abs=0.05)


def test_sample_faces_samples_the_span_at_the_requested_rate(moving_face: Path) -> None:
    span = sample_faces(moving_face, 1.0, 3.0, fps=4.0)
    assert (span.display_width, span.display_height) == (480, 270)
    assert [round(s.t, 2) for s in span.samples] == [0.0, 0.3, 0.5, 0.8, 1.0, 1.3, 1.5, 1.8]
    assert all(len(s.faces) == 1 for s in span.samples)
    # The face at source 1.0 s is at x=160 of 640, at 2.5 s it is at x=400.
    assert span.samples[0].faces[0].cx == pytest.approx(0.25, abs=0.02)
    assert span.samples[6].faces[0].cx == pytest.approx(400 / 640, abs=0.02)


def test_track_speaker_follows_the_face_with_a_bounded_smooth_path(moving_face: Path) -> None:
    path = track_speaker(moving_face, 0.0, 4.0)
    assert path is not None
    assert path.face_ratio == 1.0
    assert 2 <= len(path.keyframes) <= 24
    assert path.centre_at(0.0) == pytest.approx(0.25, abs=0.03)
    assert path.centre_at(4.0) == pytest.approx(0.75, abs=0.04)
    centres = [x for _, x in path.keyframes]
    assert centres == sorted(centres), "a face moving one way never swings the camera back"


def test_track_speaker_reads_rotated_phone_video_upright(tmp_path: Path) -> None:
    # given: a portrait picture with the face at x=0.3, stored sideways with a 90 degree display matrix
    upright = face_frames([108] * 20, width=360, height=640, size=110)
    stored = write_video(tmp_path / "stored.mp4", [np.ascontiguousarray(np.rot90(f, -1)) for f in upright])
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(
        [
            ffmpeg_binary(),
            "-loglevel",
            "error",
            "-y",
            "-display_rotation:v:0",
            "90",
            "-i",
            str(stored),
            "-c",
            "copy",
            str(rotated),
        ],
        check=True,
    )
    # when
    span = sample_faces(rotated, 0.0, 2.0)
    path = crop_path_from_samples(span, aspect=9 / 16)
    # then
    assert (span.display_width, span.display_height) == (360, 640)
    assert path is not None
    assert path.centre_at(1.0) == pytest.approx(0.5, abs=0.01), "a 9:16 crop of a 9:16 frame cannot move"
    assert span.samples[0].faces[0].cx == pytest.approx(0.3, abs=0.03)


def test_no_face_yields_none(tmp_path: Path) -> None:
    source = tmp_path / "testsrc.mp4"
    subprocess.run(
        [
            ffmpeg_binary(),
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=640x360:r=10:d=3",
            "-c:v",
            "libx264",
            str(source),
        ],
        check=True,
    )
    assert track_speaker(source, 0.0, 3.0) is None


def test_unreadable_file_is_a_media_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"not a video at all")
    with pytest.raises(MediaError, match="could not be opened"):
        sample_faces(bogus, 0.0, 1.0)


def box(cx: float, w: float = 0.1) -> FaceBox:
    return FaceBox(x=cx - w / 2, y=0.3, w=w, h=w * 16 / 9)


def test_main_face_is_the_most_persistent_track_even_when_another_is_bigger_once() -> None:
    # given: the speaker at 0.3 in every sample; a big face at 0.8 in one sample only
    samples = [FaceSample(t=i * 0.25, faces=(box(0.3),)) for i in range(6)]
    samples[2] = FaceSample(t=0.5, faces=(box(0.3), box(0.8, w=0.2)))
    samples[4] = FaceSample(t=1.0, faces=())
    samples[5] = FaceSample(t=1.25, faces=(box(0.8, w=0.2),))
    # when
    chosen = main_faces(samples)
    # then: the speaker wins where present, the other face only where the speaker is gone
    assert [round(f.cx, 2) if f else None for f in chosen] == [0.3, 0.3, 0.3, 0.3, None, 0.8]


def test_smoothing_removes_an_outlier_and_ignores_jitter_inside_the_dead_zone() -> None:
    raw = [0.50, 0.51, 0.49, 0.90, 0.50, 0.51, 0.49, 0.50]
    assert smooth_centres(raw, dead_zone=0.05) == [0.5] * 8


def test_smoothing_fills_gaps_and_moves_to_a_new_position() -> None:
    raw = [None, 0.3, 0.3, None, 0.3, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    path = smooth_centres(raw, dead_zone=0.05)
    assert len(path) == len(raw)
    assert path[0] == 0.3
    assert path == sorted(path)
    assert path[-1] == pytest.approx(0.7, abs=0.01)
    assert max(b - a for a, b in zip(path, path[1:])) < 0.2, "eased, not a jump"


def test_smoothing_of_nothing_is_empty() -> None:
    assert smooth_centres([None, None]) == []


def test_simplify_path_keeps_ends_and_respects_the_keyframe_cap() -> None:
    line = [(i * 0.25, 0.2 + i * 0.01) for i in range(40)]
    assert simplify_path(line) == [line[0], line[-1]]
    zigzag = [(i * 0.25, 0.3 if i % 2 else 0.7) for i in range(100)]
    kept = simplify_path(zigzag, max_points=10)
    assert len(kept) <= 10
    assert kept[0] == zigzag[0] and kept[-1] == zigzag[-1]


def test_crop_path_is_none_when_faces_are_rare() -> None:
    samples = tuple(FaceSample(t=i * 0.25, faces=(box(0.5),) if i < 4 else ()) for i in range(10))
    span = SampledSpan(display_width=1280, display_height=720, samples=samples)
    assert crop_path_from_samples(span, min_face_ratio=0.5) is None
    assert crop_path_from_samples(span, min_face_ratio=0.4) is not None
    assert crop_path_from_samples(SampledSpan(1280, 720, ())) is None


def test_crop_path_keeps_the_crop_inside_the_frame() -> None:
    # given: a face hugging the left edge of a 16:9 frame; a 9:16 crop is 0.316 of its width
    samples = tuple(FaceSample(t=i * 0.25, faces=(box(0.05, w=0.08),)) for i in range(8))
    # when
    path = crop_path_from_samples(SampledSpan(1280, 720, samples), aspect=9 / 16)
    # then
    assert path is not None
    assert path.keyframes == ((0.0, 0.1582), (1.75, 0.1582))
    assert path.best_time == 0.0


def test_crop_path_round_trips_and_interpolates() -> None:
    path = CropPath(keyframes=((0.0, 0.2), (2.0, 0.6), (3.0, 0.6)), aspect=0.5625, face_ratio=0.9, best_time=1.5)
    assert CropPath.from_dict(path.to_dict()) == path
    assert [path.centre_at(t) for t in (-1.0, 0.0, 1.0, 2.0, 2.5, 9.0)] == pytest.approx([0.2, 0.2, 0.4, 0.6, 0.6, 0.6])


def test_sampling_stops_once_a_face_can_no_longer_be_seen_often_enough(tmp_path: Path) -> None:
    # given: 8 s without a face, sampled at 4 per second (at most 33 samples)
    source = tmp_path / "testsrc.mp4"
    subprocess.run(
        [ffmpeg_binary(), "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=10:d=8",
         "-c:v", "libx264", str(source)],
        check=True,
    )  # fmt: skip
    # when
    full = sample_faces(source, 0.0, 8.0)
    early = sample_faces(source, 0.0, 8.0, min_face_ratio=0.5)
    # then: 17 misses out of at most 34 settle it; the rest of the span is not decoded
    assert (len(full.samples), full.complete) == (32, True)
    assert (len(early.samples), early.complete) == (18, False)
    assert crop_path_from_samples(early) is None
    assert crop_path_from_samples(full) is None


def test_early_stop_never_drops_a_span_that_keeps_its_face(moving_face: Path) -> None:
    span = sample_faces(moving_face, 0.0, 4.0, min_face_ratio=0.5)
    assert span.complete
    assert len(span.samples) == 16
