"""Conformance: real small files judged against each platform, and the transcode's output judged again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from clipflow_api.errors import ValidationError
from clipflow_api.media.probe import moov_before_mdat, read_facts
from clipflow_api.models.enums import Platform
from clipflow_api.publishing.conform import MISSING_FILE, TranscodeSpec, check_variant, duration_words, judge, size_words
from clipflow_api.publishing.platforms import RULES
from clipflow_api.storage import LocalStorage
from clipflow_worker.pipeline.conform import conform_video, target_size
from clipflow_worker.pipeline.ffmpeg import run_ffmpeg

YT, TT, IG = Platform.YOUTUBE, Platform.TIKTOK, Platform.INSTAGRAM


def _video(path: Path, *, size: str = "360x640", rate: int = 30, seconds: float = 4.0, audio_rate: int | None = 48000,
           channels: int = 2, faststart: bool = True, vcodec: str = "libx264", pix_fmt: str = "yuv420p") -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio_rate:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate={audio_rate}"]
    args += ["-c:v", vcodec, "-pix_fmt", pix_fmt] + (["-preset", "ultrafast"] if vcodec == "libx264" else [])
    args += ["-c:a", "aac", "-ac", str(channels)] if audio_rate else []
    args += ["-movflags", "+faststart"] if faststart else []
    run_ffmpeg([*args, "-shortest", str(path)], timeout=120)
    return path


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> LocalStorage:
    """A storage holding one file per case, made once for the module."""
    root = tmp_path_factory.mktemp("conform-storage")
    made = tmp_path_factory.mktemp("conform-made")
    store = LocalStorage(root, secret="test", base_url="http://localhost")
    cases = {
        "good.mp4": dict(rate=60),
        "fast.mp4": dict(rate=120),
        "slow.mp4": dict(rate=15),
        "no_faststart.mp4": dict(faststart=False),
        "landscape.mp4": dict(size="640x360"),
        "long.mp4": dict(size="180x320", rate=5, seconds=181.0, audio_rate=None),
        "long_no_faststart.mp4": dict(size="180x320", rate=5, seconds=181.0, audio_rate=None, faststart=False),
        "messy.mp4": dict(rate=120, vcodec="mpeg4", audio_rate=96000, channels=6, faststart=False),
        "yuv444.mp4": dict(pix_fmt="yuv444p"),
        "tiny.mp4": dict(size="200x356"),
    }
    for name, options in cases.items():
        store.put_file(f"clips/{name}", _video(made / name, **options))  # type: ignore[arg-type]
    (made / "text.mp4").write_bytes(b"not a video at all " * 100)
    store.put_file("clips/text.mp4", made / "text.mp4")
    return store


async def _verdicts(storage: LocalStorage, name: str) -> dict[Platform, tuple[bool, list[str], TranscodeSpec | None]]:
    out = {}
    for platform in (YT, TT, IG):
        check = await check_variant(storage, f"clips/{name}", platform)
        out[platform] = (check.ok, check.problems, check.fix)
    return out


async def test_a_vertical_60fps_fast_start_clip_is_fine_everywhere(storage: LocalStorage) -> None:
    assert await _verdicts(storage, "good.mp4") == {YT: (True, [], None), TT: (True, [], None), IG: (True, [], None)}


async def test_a_frame_rate_over_60_is_fixed_by_halving_it(storage: LocalStorage) -> None:
    spec = TranscodeSpec(reencode_video=True, fps=60.0)
    assert await _verdicts(storage, "fast.mp4") == {
        YT: (False, ["The video runs at 120 fps; YouTube accepts at most 60 fps."], spec),
        TT: (False, ["The video runs at 120 fps; TikTok accepts at most 60 fps."], spec),
        IG: (False, ["The video runs at 120 fps; Instagram accepts at most 60 fps."], spec),
    }


async def test_a_frame_rate_under_23_is_raised_to_30_where_a_minimum_is_documented(storage: LocalStorage) -> None:
    spec = TranscodeSpec(reencode_video=True, fps=30.0)
    assert await _verdicts(storage, "slow.mp4") == {
        YT: (True, [], None),
        TT: (False, ["The video runs at 15 fps; TikTok needs at least 23 fps."], spec),
        IG: (False, ["The video runs at 15 fps; Instagram needs at least 23 fps."], spec),
    }


async def test_no_fast_start_is_fixed_by_rewriting_the_file_without_encoding(storage: LocalStorage) -> None:
    assert await _verdicts(storage, "no_faststart.mp4") == {
        YT: (False, ["The file's index (moov atom) is at the end; YouTube needs it at the front (fast start)."],
             TranscodeSpec()),
        TT: (True, [], None),  # TikTok documents no such rule
        IG: (False, ["The file's index (moov atom) is at the end; Instagram needs it at the front (fast start)."],
             TranscodeSpec()),
    }


async def test_too_long_is_unfixable_and_hides_what_could_be_fixed(storage: LocalStorage) -> None:
    long = "The video is 3 minutes 1 second long; YouTube Shorts can be at most 3 minutes. Choose a shorter clip."
    assert (await check_variant(storage, "clips/long.mp4", YT)).problems == [long]
    check = await check_variant(storage, "clips/long_no_faststart.mp4", YT)
    assert (check.ok, check.problems, check.fix) == (False, [long], None)
    # TikTok's own limit is 10 minutes (this file's 5 fps and 180 px are fixable); the account's cap binds
    check = await check_variant(storage, "clips/long.mp4", TT)
    assert check.fix is not None and not any("long" in p for p in check.problems)
    check = await check_variant(storage, "clips/good.mp4", TT, max_duration_s=3)
    assert (check.ok, check.problems, check.fix) == (False, [
        "The video is 4 seconds long; this TikTok account can post videos of at most 3 seconds. Choose a shorter clip."
    ], None)


async def test_a_landscape_video_is_not_a_short(storage: LocalStorage) -> None:
    assert await _verdicts(storage, "landscape.mp4") == {
        YT: (False, ["The video is landscape (640x360); YouTube Shorts must be vertical or square. "
                     "Post the clip's 9:16 version."], None),
        TT: (True, [], None),
        IG: (True, [], None),
    }


async def test_codec_frame_rate_sound_and_fast_start_all_at_once(storage: LocalStorage) -> None:
    check = await check_variant(storage, "clips/messy.mp4", IG)
    assert check.problems == [
        "The video is encoded as MPEG-4 Part 2; Instagram accepts H.264 or H.265 (HEVC).",
        "The video runs at 120 fps; Instagram accepts at most 60 fps.",
        "The sound is sampled at 96 kHz; Instagram accepts at most 48 kHz.",
        "The sound has 6 channels; Instagram accepts mono or stereo.",
        "The file's index (moov atom) is at the end; Instagram needs it at the front (fast start).",
    ]
    assert check.fix == TranscodeSpec(reencode_video=True, reencode_audio=True, fps=60.0, audio_sample_rate=48000,
                                      audio_channels=2)
    check = await check_variant(storage, "clips/yuv444.mp4", IG)
    assert (check.problems, check.fix) == (
        ["The video's colour format (yuv444p) is not the 4:2:0 that Instagram needs."], TranscodeSpec(reencode_video=True))


async def test_missing_unreadable_and_unknown(storage: LocalStorage) -> None:
    check = await check_variant(storage, "clips/nothing-here.mp4", IG)
    assert (check.ok, check.problems, check.fix) == (False, [MISSING_FILE], None)
    check = await check_variant(storage, "clips/text.mp4", IG)
    assert check.problems == ["The video file could not be read (it may be corrupt or in an unsupported format)."]
    with pytest.raises(ValidationError):
        await check_variant(storage, "clips/good.mp4", "facebook")


def test_the_transcode_fixes_everything_at_once(storage: LocalStorage, tmp_path: Path) -> None:
    # given the messy file's verdict for Instagram
    source = storage.path("clips/messy.mp4")
    verdict = judge(read_facts(source), RULES[IG])
    assert verdict.fix is not None
    # when the worker's transcode applies it
    out = conform_video(source, tmp_path / "out.mp4", verdict.fix)
    # then the output conforms: 60 fps, fast start, H.264 4:2:0, AAC 48 kHz stereo, same length
    facts = read_facts(out)
    assert moov_before_mdat(out) is True and moov_before_mdat(source) is False
    assert (facts.fps, facts.video_codec, facts.pixel_format, facts.faststart) == (60.0, "h264", "yuv420p", True)
    assert (facts.audio_codec, facts.audio_sample_rate, facts.audio_channels) == ("aac", 48000, 2)
    assert (facts.width, facts.height) == (360, 640) and abs(facts.duration - 4.0) < 0.1
    for platform in (YT, TT, IG):
        assert judge(facts, RULES[platform]).ok, platform
    assert not list(tmp_path.glob("*.part.*"))


def test_fast_start_alone_is_a_rewrite_not_a_re_encode(storage: LocalStorage, tmp_path: Path) -> None:
    source = storage.path("clips/no_faststart.mp4")
    before = read_facts(source)
    out = conform_video(source, tmp_path / "out.mp4", TranscodeSpec())
    after = read_facts(out)
    assert (before.faststart, after.faststart) == (False, True)
    # the same streams, byte for byte: the same bitrates and a file within a few hundred bytes
    assert (after.video_bitrate, after.audio_codec, after.fps) == (before.video_bitrate, "aac", before.fps)
    assert abs(after.size_bytes - before.size_bytes) < 2000
    assert judge(after, RULES[IG]).ok and judge(after, RULES[YT]).ok


def test_size_width_and_bitrate_limits_are_met_by_scaling_and_capping(storage: LocalStorage, tmp_path: Path) -> None:
    # given rules tighter than any platform's (cheap to test): 180 px wide, 1.5 Mbps, 600 kB
    rules = dataclasses.replace(RULES[IG], max_width_px=180, max_video_bitrate=1_500_000, max_size_bytes=600_000)
    source = storage.path("clips/good.mp4")
    verdict = judge(read_facts(source), rules)
    assert len(verdict.problems) == 3
    assert verdict.problems[0] == "The video is 360 pixels wide; Instagram accepts at most 180."
    assert verdict.problems[1].startswith("The video's bitrate is ") and verdict.problems[1].endswith(
        " Mbps; Instagram accepts at most 1.5 Mbps.")
    assert verdict.problems[2].startswith("The file is ") and verdict.problems[2].endswith(
        " MB; Instagram accepts at most 0.6 MB.")
    assert verdict.fix is not None and verdict.fix.max_width == 180
    # 600 kB over 4 s, less the sound, is under 90% of the 1.5 Mbps cap: the tighter one wins
    assert verdict.fix.max_video_bitrate == int(600_000 * 8 * 0.9 / 4.0) - 128_000
    out = conform_video(source, tmp_path / "out.mp4", verdict.fix)
    facts = read_facts(out)
    assert (facts.width, facts.height) == (180, 320)
    assert judge(facts, rules).ok, judge(facts, rules).problems
    # a limit no watchable bitrate meets (100 kB for 4 s) cannot be fixed
    verdict = judge(read_facts(source), dataclasses.replace(rules, max_size_bytes=100_000))
    assert verdict.fix is None and len(verdict.problems) == 1
    assert verdict.problems[0].startswith("The file is ") and verdict.problems[0].endswith(
        " MB; Instagram accepts at most 0.1 MB, and this video is too long to fit at a watchable quality.")


def test_a_picture_under_360_pixels_is_scaled_up_for_tiktok(storage: LocalStorage, tmp_path: Path) -> None:
    source = storage.path("clips/tiny.mp4")
    verdict = judge(read_facts(source), RULES[TT])
    assert verdict.problems == ["The video is 200x356; TikTok needs at least 360 pixels on each side."]
    assert verdict.fix == TranscodeSpec(reencode_video=True, min_side=360)
    facts = read_facts(conform_video(source, tmp_path / "out.mp4", verdict.fix))
    assert (facts.width, facts.height) == (360, 642)
    assert judge(facts, RULES[TT]).ok


def test_target_sizes_are_even_and_keep_the_shape() -> None:
    assert target_size(1080, 1920, TranscodeSpec()) is None
    assert target_size(3840, 2160, TranscodeSpec(max_width=1920)) == (1920, 1080)
    assert target_size(2160, 4320, TranscodeSpec(max_side=4096)) == (2048, 4096)
    assert target_size(201, 357, TranscodeSpec()) == (200, 356)


def test_durations_and_sizes_in_words() -> None:
    assert [duration_words(s) for s in (1, 2.5, 45, 60, 61, 180, 200.04, 600)] == [
        "1 second", "2.5 seconds", "45 seconds", "1 minute", "1 minute 1 second", "3 minutes", "3 minutes 20 seconds",
        "10 minutes"]
    assert [size_words(s) for s in (300_000_000, 412_345_678, 4_000_000_000, 1_500_000_000)] == [
        "300 MB", "412.3 MB", "4 GB", "1.5 GB"]
