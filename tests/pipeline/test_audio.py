"""Audio extraction (16 kHz mono PCM) and the loudness envelope, on the shipped fixtures."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from clipflow_worker.pipeline.audio import (
    SAMPLE_RATE,
    LoudnessEnvelope,
    NoAudioError,
    decode_pcm,
    extract_wav,
    load_audio,
    loudness_envelope,
    read_wav,
)
from clipflow_worker.pipeline.types import MediaError

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / "tests" / "fixtures" / "media"
MANIFEST = json.loads((MEDIA / "manifest.json").read_text())


def expected(name: str) -> dict:
    return MANIFEST[f"tests/fixtures/media/{name}"]


def test_extract_wav_writes_16khz_mono_16bit_of_the_whole_track(tmp_path: Path) -> None:
    # when
    wav = extract_wav(MEDIA / "speech_15s.mp4", tmp_path / "audio.wav")

    # then
    with wave.open(str(wav)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()) == (1, 2, 16_000, "NONE")
        duration = w.getnframes() / w.getframerate()
    # AAC priming and frame padding move the end by at most one 1024-sample frame at 44.1 kHz
    assert abs(duration - expected("speech_15s.mp4")["duration"]) < 0.03


def test_read_wav_and_decode_pcm_give_the_same_samples(tmp_path: Path) -> None:
    wav = extract_wav(MEDIA / "speech_15s.mp4", tmp_path / "audio.wav")

    fast = read_wav(wav)
    piped = decode_pcm(MEDIA / "speech_15s.mp4")

    assert fast.dtype == piped.dtype == np.float32
    assert fast.shape == piped.shape
    # one 16-bit quantisation step apart at most
    assert float(np.max(np.abs(fast - piped))) <= 1.0 / 32768 + 1e-7


def test_speech_sits_where_the_manifest_says(tmp_path: Path) -> None:
    samples = load_audio(extract_wav(MEDIA / "speech_15s.mp4", tmp_path / "audio.wav"))
    (paragraph,) = expected("speech_15s.mp4")["paragraphs"]
    env = loudness_envelope(samples)

    lead_in = env.span(0.0, paragraph["start"] - 0.1)
    speech = env.span(paragraph["start"], paragraph["end"])
    assert float(lead_in.max()) < -60.0
    assert -30.0 < float(np.median(speech)) < -10.0


def test_an_audio_only_file_decodes_too() -> None:
    samples = decode_pcm(MEDIA / "audio_only.m4a")

    assert abs(samples.size / SAMPLE_RATE - expected("audio_only.m4a")["duration"]) < 0.03


def test_a_wav_in_another_layout_is_resampled(tmp_path: Path) -> None:
    # given a 44.1 kHz stereo WAV of 0.5 s
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44_100)
        w.writeframes(np.zeros(44_100, dtype="<i2").tobytes())

    samples = load_audio(path)

    assert samples.size == 8_000


def test_a_video_without_sound_is_refused_in_words() -> None:
    with pytest.raises(NoAudioError) as err:
        extract_wav(MEDIA / "no_audio_2s.mp4", "/nonexistent/never-written.wav")

    assert str(err.value) == "This video has no sound track, so there is no speech to turn into clips."
    assert isinstance(err.value, MediaError)


def test_missing_and_unreadable_files_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)

    with pytest.raises(MediaError, match="could not be found"):
        decode_pcm(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match="not a video we can read"):
        decode_pcm(junk)


def test_envelope_of_a_sine_is_its_rms_level() -> None:
    # given 1 s of a 0.5-amplitude sine: RMS 0.5/sqrt(2) = -9.03 dBFS
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    samples = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)

    env = loudness_envelope(samples)

    assert env.window == 0.1 and len(env.db) == 10
    np.testing.assert_allclose(env.db, 20 * np.log10(0.5 / np.sqrt(2)), atol=0.01)


def test_envelope_floors_silence_and_averages_a_partial_last_window() -> None:
    # given 0.2 s of silence then 0.05 s of full-scale square wave
    samples = np.concatenate([np.zeros(3_200), np.ones(800)]).astype(np.float32)

    env = loudness_envelope(samples)

    assert env.db.tolist() == [-90.0, -90.0, 0.0]
    assert env.duration == pytest.approx(0.3)


def test_envelope_span_selects_overlapping_windows() -> None:
    env = LoudnessEnvelope(0.1, np.arange(10, dtype=np.float32))

    assert env.span(0.25, 0.51).tolist() == [2.0, 3.0, 4.0, 5.0]
    assert env.span(2.0, 3.0).tolist() == []
    assert env.to_list()[:3] == [0.0, 1.0, 2.0]


def test_empty_audio_has_an_empty_envelope() -> None:
    assert loudness_envelope(np.zeros(0, dtype=np.float32)).db.size == 0
