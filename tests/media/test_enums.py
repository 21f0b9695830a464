"""One list of caption styles and watermark positions: the API's enums are what the worker draws."""

from __future__ import annotations

import pytest

from clipflow_api.models.enums import CaptionStyle, WatermarkPosition
from clipflow_api.processing.service import processing_input
from clipflow_worker.pipeline.captions import CAPTION_STYLES, build_ass
from clipflow_worker.pipeline.render import WATERMARK_POSITIONS, _watermark_position
from clipflow_worker.pipeline.types import FORMATS, Word


def test_the_worker_draws_every_caption_style() -> None:
    assert set(CAPTION_STYLES) == set(CaptionStyle)
    assert {spec.name for spec in CAPTION_STYLES.values()} == set(CaptionStyle)


def test_the_worker_places_every_watermark_position() -> None:
    assert set(WATERMARK_POSITIONS) == set(WatermarkPosition)


@pytest.mark.parametrize("style", list(CaptionStyle))
def test_each_style_is_accepted_by_the_api_and_drawn_by_the_worker(style: CaptionStyle) -> None:
    assert processing_input(style=style)["style"] == style.value
    fmt = FORMATS["9:16"]
    script = build_ass([Word("hello", 0.0, 0.5)], fmt, clip_start=0.0, clip_end=1.0, style=style.value)
    assert "Dialogue:" in script


@pytest.mark.parametrize("position", list(WatermarkPosition))
def test_each_watermark_position_has_overlay_coordinates(position: WatermarkPosition) -> None:
    fmt = FORMATS["9:16"]
    x, y = _watermark_position(fmt, position.value)
    assert x and y
