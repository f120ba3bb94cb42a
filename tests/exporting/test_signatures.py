"""Which model inputs are read as segments of steps (their TFLite export
fixes both lengths): characters of words and sentences of words are; an
image and a window of a series are not."""

import keras
import pytest

from rnnzoo.exporting.signatures import is_nested


@pytest.mark.parametrize("shape, dtype, name, nested", [
    ((None, None), "int32", "characters", True),  # a tagger's characters per word
    ((None, None), "int32", "tokens", True),  # a hierarchical model's words per sentence
    ((None, None, 8), "float32", "features", True),  # steps of features per segment
    ((32, 96, 1), "float32", "image", False),  # a captioner's image: fixed height and width
    ((96, 3), "float32", "series", False),  # a forecaster's window
    ((None,), "int32", "tokens", False),  # a flat sequence
])
def test_nested_inputs_are_segments_of_steps(shape, dtype, name, nested):
    assert is_nested(keras.Input(shape, dtype=dtype, name=name)) is nested
