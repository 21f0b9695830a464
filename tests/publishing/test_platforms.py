"""Platform rules (the numbers the checks use) and the text checks, sentence for sentence."""

from __future__ import annotations

import pytest

from clipflow_api.errors import ErrorCode, ValidationError
from clipflow_api.models.enums import Platform
from clipflow_api.publishing.platforms import GB, MB, RULES, check_text, compose_caption, rules_for


def test_the_three_platforms_of_this_issue_and_their_limits() -> None:
    assert set(RULES) == {Platform.YOUTUBE, Platform.TIKTOK, Platform.INSTAGRAM}
    assert {p: (r.format_key, r.min_duration_s, r.max_duration_s, r.max_size_bytes, r.max_fps) for p, r in RULES.items()} == {
        Platform.YOUTUBE: ("9:16", 0.0, 180.0, 256 * GB, 60.0),
        Platform.TIKTOK: ("9:16", 0.0, 600.0, 4 * GB, 60.0),
        Platform.INSTAGRAM: ("9:16", 3.0, 900.0, 300 * MB, 60.0),
    }
    assert {p: (r.max_caption_chars, r.max_hashtags, r.max_title_chars) for p, r in RULES.items()} == {
        Platform.YOUTUBE: (5000, 60, 100),
        Platform.TIKTOK: (2200, None, None),
        Platform.INSTAGRAM: (2200, 5, None),
    }
    assert RULES[Platform.INSTAGRAM].video_codecs == {"h264", "hevc"}
    assert RULES[Platform.INSTAGRAM].audio_codecs == {"aac"}
    assert RULES[Platform.TIKTOK].video_codecs == {"h264", "hevc", "vp8", "vp9"}
    assert (RULES[Platform.TIKTOK].min_fps, RULES[Platform.INSTAGRAM].min_fps, RULES[Platform.YOUTUBE].min_fps) == (23.0, 23.0, None)


def test_a_platform_of_the_next_issue_is_refused_in_words() -> None:
    with pytest.raises(ValidationError) as err:
        rules_for("facebook")
    assert (err.value.code, err.value.message, err.value.field) == (
        ErrorCode.INVALID, "Publishing to facebook is not available yet.", "platform")
    with pytest.raises(ValidationError):
        check_text("myspace", "hi")


def test_compose_caption_appends_tags_and_mentions_the_caption_lacks() -> None:
    assert compose_caption("Big news #launch", ["launch", "#Startup"], ["@acme", "bob"]) == (
        "Big news #launch\n\n#Startup @acme @bob")
    assert compose_caption("  plain  ") == "plain"
    assert compose_caption("", ["a"], []) == "#a"
    assert compose_caption(None, ["a", "#a"], None) == "#a"


def test_a_fitting_post_has_no_problems_anywhere() -> None:
    for platform in RULES:
        assert check_text(platform, "Watch this", ["clips", "shorts"], ["acme"], {"title": "A title"}) == []


def test_tiktok_counts_utf16_units_so_an_emoji_counts_twice() -> None:
    assert check_text("tiktok", "😀" * 1100) == []
    assert check_text("tiktok", "😀" * 1100 + "a") == [
        "The caption is 2,201 characters with its hashtags and mentions; TikTok allows at most 2,200."]
    # hashtags are appended to the caption, and count towards its length
    assert check_text("tiktok", "a" * 2195, ["abcde"]) == [
        "The caption is 2,203 characters with its hashtags and mentions; TikTok allows at most 2,200."]


def test_instagram_caption_hashtags_and_mentions() -> None:
    assert check_text("instagram", "a" * 2200) == []
    assert check_text("instagram", "a" * 2201) == [
        "The caption is 2,201 characters with its hashtags and mentions; Instagram allows at most 2,200."]
    assert check_text("instagram", "#one #two", ["three", "four", "five"]) == []
    assert check_text("instagram", "#one #two", ["three", "four", "five", "six"]) == [
        "The post has 6 hashtags; Instagram allows at most 5."]
    mentions = [f"user{i}" for i in range(21)]
    assert check_text("instagram", "hi", [], mentions) == ["The post mentions 21 accounts; Instagram allows at most 20."]


def test_bad_hashtags_and_mentions_are_named() -> None:
    assert check_text("instagram", "hi", ["summer fun", "#ok", "#"], ["good.name", "bad name!"]) == [
        "The hashtag “summer fun” may only contain letters, numbers and underscores.",
        "The hashtag “#” may only contain letters, numbers and underscores.",
        "The mention “bad name!” is not a valid Instagram username.",
    ]
    # YouTube handles may contain hyphens
    assert check_text("youtube", "hi", [], ["my-channel"]) == []
    assert check_text("tiktok", "hi", [], ["my-channel"]) == ["The mention “my-channel” is not a valid TikTok username."]


def test_youtube_title_description_and_tags() -> None:
    # the title defaults to the caption's first line
    assert check_text("youtube", "t" * 100 + "\nmore") == []
    assert check_text("youtube", "t" * 101 + "\nmore") == ["The title is 101 characters; YouTube allows at most 100."]
    assert check_text("youtube", "t" * 101, options={"title": "Short"}) == []
    assert check_text("youtube", "fine", options={"title": "a <b>"}) == ["YouTube titles cannot contain < or >."]
    assert check_text("youtube", "Title\n1 < 2") == ["YouTube descriptions cannot contain < or >."]
    # 5,000 bytes, not characters: é takes two
    assert check_text("youtube", "é" * 2500, options={"title": "t"}) == []
    assert check_text("youtube", "é" * 2501, options={"title": "t"}) == [
        "The description is 5,002 bytes with its hashtags and mentions; YouTube allows at most 5,000 "
        "(accented letters and emoji take 2 to 4 bytes each)."]
    # 500 characters of tags, with the commas between them and quotes around ones with spaces
    assert check_text("youtube", "t", options={"tags": ["a" * 249, "b" * 250]}) == []
    assert check_text("youtube", "t", options={"tags": ["a" * 249, "b c" + "d" * 246]}) == [
        "The tags take 501 characters; YouTube allows at most 500 (commas between tags, and quotes around tags "
        "with spaces, count too)."]
    assert check_text("youtube", "t", [f"h{i}" for i in range(60)]) == []
    assert check_text("youtube", "t", [f"h{i}" for i in range(61)]) == ["The post has 61 hashtags; YouTube allows at most 60."]
