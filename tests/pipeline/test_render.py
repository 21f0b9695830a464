"""One-process rendering into every format, checked on the encoded files with PyAV."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from clipflow_worker.pipeline.faces import CropPath
from clipflow_worker.pipeline.ffmpeg import FFmpegError, ffmpeg_binary
from clipflow_worker.pipeline.render import (
    MAX_CROP_SEGMENTS,
    THUMBNAIL_KEY,
    crop_x_expression,
    read_geometry,
    render_clip_variants,
)
from clipflow_worker.pipeline.types import FORMATS, BrandKit, MediaError, Word

BACKGROUND = (32, 64, 96)  # RGB of the plain source picture
SPAN = (0.5, 3.5)


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-loglevel", "error", "-y", *args], check=True)


def lavfi_source(path: Path, video: str, audio: str | None = "sine=f=440:r=48000") -> Path:
    audio_args = ["-f", "lavfi", "-i", audio, "-c:a", "aac", "-shortest"] if audio else []
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        video,
        *audio_args,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def red_blue_source(path: Path, width: int, height: int, seconds: float) -> Path:
    """Left half red, right half blue."""
    half = f"s={width // 2}x{height}:r=25:d={seconds}"
    return lavfi_source(path, f"color=red:{half}[l];color=blue:{half}[r];[l][r]hstack", audio=None)


def frame_at(path: Path, t: float) -> np.ndarray:
    """The first decoded frame at or after ``t`` seconds, as RGB."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= t:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t}s in {path}")


def top_level_atoms(path: Path) -> list[str]:
    atoms, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        atoms.append(kind.decode("latin-1"))
        offset += size if size else len(data)
    return atoms


def mean_rgb(image: np.ndarray) -> np.ndarray:
    return image.reshape(-1, 3).mean(axis=0)


CAPTION_WORDS = [Word(w, 1.5 + i * 0.4, 1.5 + i * 0.4 + 0.35) for i, w in enumerate("this is burned in".split())]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], list[float]]:
    """A plain 640x360 source rendered into all three formats with captions and a watermark."""
    work = tmp_path_factory.mktemp("render")
    source = lavfi_source(work / "plain.mp4", "color=c=0x204060:s=640x360:r=25:d=4")
    logo = np.zeros((60, 120, 4), np.uint8)
    logo[..., 2], logo[..., 3] = 255, 255  # opaque red (BGRA)
    cv2.imwrite(str(work / "logo.png"), logo)
    brand = BrandKit(watermark_path=str(work / "logo.png"), watermark_position="top-right", watermark_opacity=0.8)
    reports: list[float] = []
    outputs = render_clip_variants(
        source, *SPAN, work / "out", words=CAPTION_WORDS, style="hormozi", brand=brand,
        progress=lambda fraction, _message: reports.append(fraction),
    )  # fmt: skip
    return outputs, reports


def test_every_format_has_exact_size_codecs_and_duration(rendered: tuple[dict[str, Path], list[float]]) -> None:
    outputs, _ = rendered
    assert sorted(outputs) == ["16:9", "1:1", "9:16", THUMBNAIL_KEY]
    for name, fmt in FORMATS.items():
        with av.open(str(outputs[name])) as container:
            video, audio = container.streams.video[0], container.streams.audio[0]
            assert (video.codec_context.name, audio.codec_context.name) == ("h264", "aac")
            assert (video.codec_context.width, video.codec_context.height) == (fmt.width, fmt.height)
            assert video.codec_context.pix_fmt == "yuv420p"
            assert container.duration / av.time_base == pytest.approx(SPAN[1] - SPAN[0], abs=0.1)
            assert float(video.duration * video.time_base) == pytest.approx(SPAN[1] - SPAN[0], abs=0.1)


def test_outputs_are_fast_start(rendered: tuple[dict[str, Path], list[float]]) -> None:
    outputs, _ = rendered
    for name in FORMATS:
        atoms = top_level_atoms(outputs[name])
        assert atoms.index("moov") < atoms.index("mdat"), atoms


def test_captions_are_burned_in_only_while_words_are_spoken(rendered: tuple[dict[str, Path], list[float]]) -> None:
    outputs, _ = rendered
    for name, fmt in FORMATS.items():
        # The caption band: above the safe zone's bottom, where the style puts its line.
        band = slice(fmt.height - fmt.safe_bottom - round(0.2 * fmt.height), fmt.height - fmt.safe_bottom)
        # Words are in source time: the first one, at 1.5 s, is 1.0 s into a clip cut at 0.5 s.
        before = frame_at(outputs[name], 0.9)[band]
        during = frame_at(outputs[name], 1.1)[band]
        assert (before.max(axis=2) > 200).sum() == 0, name
        assert (during.max(axis=2) > 200).sum() > 2000, name  # white and yellow letters


def test_watermark_sits_in_its_corner_at_its_opacity(rendered: tuple[dict[str, Path], list[float]]) -> None:
    outputs, _ = rendered
    for name, fmt in FORMATS.items():
        frame = frame_at(outputs[name], 0.2)
        right, top = fmt.width - fmt.safe_right, fmt.safe_top
        # 0.8 x red over the background: R = 0.8 * 255 + 0.2 * 32, G and B mostly gone.
        inside = mean_rgb(frame[top + 20 : top + 60, right - 140 : right - 20])
        assert inside == pytest.approx([210, 13, 19], abs=12), name
        mirrored = mean_rgb(frame[top + 20 : top + 60, fmt.safe_left + 20 : fmt.safe_left + 140])
        assert mirrored == pytest.approx(BACKGROUND, abs=12), name


def test_thumbnail_is_a_vertical_jpeg(rendered: tuple[dict[str, Path], list[float]]) -> None:
    outputs, _ = rendered
    assert outputs[THUMBNAIL_KEY].name == "clip_thumb.jpg"
    assert outputs[THUMBNAIL_KEY].read_bytes()[:3] == b"\xff\xd8\xff"
    assert cv2.imread(str(outputs[THUMBNAIL_KEY])).shape == (1920, 1080, 3)


def test_progress_only_moves_forward_and_ends_at_one(rendered: tuple[dict[str, Path], list[float]]) -> None:
    _, reports = rendered
    assert reports == sorted(reports)
    assert reports[-1] == 1.0


def test_rotated_phone_video_comes_out_upright(tmp_path: Path) -> None:
    # given: stored 320x180 (left red, right blue) with a 90 degree display matrix: upright it
    # is 180x320 with blue on top and red below
    stored = red_blue_source(tmp_path / "stored.mp4", 320, 180, 2)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation:v:0", "90", "-i", str(stored), "-c", "copy", str(rotated))
    assert (read_geometry(rotated).display_width, read_geometry(rotated).display_height) == (180, 320)
    # when
    outputs = render_clip_variants(rotated, 0.0, 1.0, tmp_path / "out", formats=("9:16", "16:9"), thumbnail=False)
    # then
    vertical = frame_at(outputs["9:16"], 0.5)
    assert vertical.shape == (1920, 1080, 3)
    assert mean_rgb(vertical[100:800]) == pytest.approx([0, 0, 255], abs=20)
    assert mean_rgb(vertical[1120:1820]) == pytest.approx([255, 0, 0], abs=20)
    landscape = frame_at(outputs["16:9"], 0.5)
    assert landscape.shape == (1080, 1920, 3)
    assert mean_rgb(landscape[50:450, 900:1020]) == pytest.approx([0, 0, 255], abs=20)
    assert mean_rgb(landscape[630:1030, 900:1020]) == pytest.approx([255, 0, 0], abs=20)


def test_crop_follows_the_speaker_path_and_falls_back_to_a_blurred_fill(tmp_path: Path) -> None:
    # given: red left half, blue right half; a path that moves from x=0.2 to x=0.8
    source = red_blue_source(tmp_path / "halves.mp4", 640, 360, 3)
    path = CropPath(keyframes=((0.0, 0.2), (1.0, 0.2), (2.0, 0.8)), aspect=9 / 16, face_ratio=1.0, best_time=1.9)
    # when
    tracked = render_clip_variants(source, 0.0, 2.0, tmp_path / "tracked", formats=("9:16",), crop_path=path)
    fallback = render_clip_variants(source, 0.0, 2.0, tmp_path / "fallback", formats=("9:16",), thumbnail=False)
    # then: the crop is all red on the left, all blue once it has moved right
    assert mean_rgb(frame_at(tracked["9:16"], 0.5)) == pytest.approx([255, 0, 0], abs=20)
    assert mean_rgb(frame_at(tracked["9:16"], 1.95)) == pytest.approx([0, 0, 255], abs=20)
    # and the thumbnail comes from the path's best moment, when the crop was on the blue side
    thumb = cv2.cvtColor(cv2.imread(str(tracked[THUMBNAIL_KEY])), cv2.COLOR_BGR2RGB)
    assert mean_rgb(thumb) == pytest.approx([0, 0, 255], abs=20)
    # and without a path the whole frame sits in the middle: red left, blue right, blur around
    middle = frame_at(fallback["9:16"], 0.5)[900:1020]
    assert mean_rgb(middle[:, 100:400]) == pytest.approx([255, 0, 0], abs=20)
    assert mean_rgb(middle[:, 680:980]) == pytest.approx([0, 0, 255], abs=20)


def test_anamorphic_pixels_are_squared_before_cropping(tmp_path: Path) -> None:
    # given: 320x360 stored pixels twice as wide as tall (displays as 640x360), red left, blue right
    stored = red_blue_source(tmp_path / "square.mp4", 320, 360, 1)
    anamorphic = tmp_path / "anamorphic.mp4"
    ffmpeg("-i", str(stored), "-vf", "setsar=2", "-c:v", "libx264", "-preset", "ultrafast", str(anamorphic))
    path = CropPath(keyframes=((0.0, 0.2),), aspect=9 / 16, face_ratio=1.0)
    # when
    outputs = render_clip_variants(
        anamorphic, 0.0, 1.0, tmp_path / "out", formats=("9:16",), crop_path=path, thumbnail=False
    )
    # then: a 9:16 crop centred at 0.2 of the displayed width sees only the red half
    assert read_geometry(anamorphic).display_width == 640
    assert mean_rgb(frame_at(outputs["9:16"], 0.5)) == pytest.approx([255, 0, 0], abs=20)


def test_crop_expression_has_a_bounded_number_of_segments() -> None:
    many = CropPath(keyframes=tuple((i * 0.1, 0.3 + (i % 7) * 0.05) for i in range(500)), aspect=0.5625, face_ratio=1.0)
    expression = crop_x_expression(many)
    assert expression.count("if(") == MAX_CROP_SEGMENTS + 1
    assert expression.startswith("clip(iw*(") and expression.endswith("-ow/2\\,0\\,iw-ow)")


def audio_level(samples: np.ndarray, rate: int, start: float, end: float, hz: float) -> float:
    """Amplitude of one frequency in a window of mono samples."""
    window = samples[int(start * rate) : int(end * rate)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    freqs = np.fft.rfftfreq(len(window), 1 / rate)
    return float(spectrum[np.abs(freqs - hz) < 15].max())


def decoded_audio(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray().mean(axis=0) for f in container.decode(stream)]
        return np.concatenate(chunks), stream.rate


def test_music_bed_is_ducked_under_speech(tmp_path: Path) -> None:
    # given: "speech" (a 1 kHz tone) on for 1 s, off for 1 s; music: a steady 200 Hz tone
    speech = "aevalsrc='if(lt(mod(t\\,2)\\,1)\\,0.5*sin(2*PI*1000*t)\\,0)':s=48000:d=4"
    source = lavfi_source(tmp_path / "talk.mp4", "color=c=gray:s=320x180:r=25:d=4", audio=speech)
    music = tmp_path / "music.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=f=200:r=48000:d=10", "-c:a", "aac", str(music))
    # when
    outputs = render_clip_variants(source, 0.0, 4.0, tmp_path / "out", formats=("16:9",), music=music, thumbnail=False)
    # then
    samples, rate = decoded_audio(outputs["16:9"])
    assert len(samples) / rate == pytest.approx(4.0, abs=0.1)
    during_speech = audio_level(samples, rate, 2.3, 2.9, 200)
    in_the_pause = audio_level(samples, rate, 1.5, 1.95, 200)
    assert during_speech < 0.5 * in_the_pause
    assert audio_level(samples, rate, 2.3, 2.9, 1000) > 10 * during_speech, "speech stays on top"


def test_source_without_audio_renders_silent_video(tmp_path: Path) -> None:
    source = lavfi_source(tmp_path / "mute.mp4", "color=c=gray:s=320x180:r=25:d=2", audio=None)
    outputs = render_clip_variants(source, 0.0, 1.0, tmp_path / "out", formats=("1:1",), thumbnail=False)
    with av.open(str(outputs["1:1"])) as container:
        assert (len(container.streams.video), len(container.streams.audio)) == (1, 0)


def test_full_range_phone_video_comes_out_limited_range(tmp_path: Path) -> None:
    source = tmp_path / "full.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=white:s=320x180:r=25:d=1", "-pix_fmt", "yuvj420p", "-c:v", "libx264", str(source)
    )
    assert read_geometry(source).full_range
    outputs = render_clip_variants(source, 0.0, 1.0, tmp_path / "out", formats=("16:9",))
    with av.open(str(outputs["16:9"])) as container:
        frame = next(container.decode(video=0))
        assert frame.format.name == "yuv420p"
        assert int(frame.to_ndarray()[:1080].max()) == 235, "white is 235 in limited range"


def test_a_span_running_past_the_end_is_cut_at_the_end(tmp_path: Path) -> None:
    source = lavfi_source(tmp_path / "short.mp4", "color=c=gray:s=320x180:r=25:d=2")
    outputs = render_clip_variants(source, 1.0, 5.0, tmp_path / "out", formats=("1:1",))
    with av.open(str(outputs["1:1"])) as container:
        assert container.duration / av.time_base == pytest.approx(1.0, abs=0.1)
    assert outputs[THUMBNAIL_KEY].stat().st_size > 0


def test_refusals_leave_no_files(tmp_path: Path) -> None:
    source = lavfi_source(tmp_path / "s.mp4", "color=c=gray:s=320x180:r=25:d=2")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="Unknown output formats \\['4:3'\\]"):
        render_clip_variants(source, 0.0, 1.0, out, formats=("4:3",))
    with pytest.raises(MediaError, match="no length"):
        render_clip_variants(source, 1.0, 1.0, out)
    with pytest.raises(MediaError, match="starts after the video ends"):
        render_clip_variants(source, 3.0, 4.0, out)
    with pytest.raises(ValueError, match="Unknown watermark position 'middle'"):
        render_clip_variants(
            source, 0.0, 1.0, out, brand=BrandKit(watermark_path=str(source), watermark_position="middle")
        )
    with pytest.raises(MediaError, match="watermark image could not be read"):
        render_clip_variants(source, 0.0, 1.0, out, brand=BrandKit(watermark_path=str(source)))
    playlist = tmp_path / "music.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{source}\n#EXT-X-ENDLIST\n")
    with pytest.raises(MediaError, match="Playlists and file lists are not accepted"):
        render_clip_variants(source, 0.0, 1.0, out, music=playlist)
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00" * 1024)
    with pytest.raises(MediaError, match="could not be opened"):
        render_clip_variants(bogus, 0.0, 1.0, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_a_render_past_its_timeout_is_stopped_and_leaves_nothing(tmp_path: Path) -> None:
    source = lavfi_source(tmp_path / "s.mp4", "testsrc2=s=640x360:r=25:d=6")
    out = tmp_path / "out"
    with pytest.raises(FFmpegError, match="longer than 0 seconds"):
        render_clip_variants(source, 0.0, 6.0, out, timeout=0.3)
    assert list(out.iterdir()) == []


def test_the_outputs_share_the_cores_instead_of_each_taking_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    from clipflow_worker.pipeline import render

    monkeypatch.setattr(render, "_cpu_count", lambda: 2)
    assert render.EncodeSettings().x264_threads(3) == 1
    monkeypatch.setattr(render, "_cpu_count", lambda: 16)
    assert render.EncodeSettings().x264_threads(3) == 5
    assert render.EncodeSettings(threads=4).x264_threads(3) == 4
