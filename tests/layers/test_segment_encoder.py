"""`SegmentEncoder` (encode each segment: the characters of a word, the
words of a sentence) and `AttentionPooling`: masks, weights, and the
character encoder's old files."""

import os

import keras
import numpy as np
import pytest

from rnnzoo.layers import AttentionPooling, SegmentEncoder

FILES = os.path.join(os.path.dirname(__file__), "files")


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def test_attention_weights_sum_to_one_over_real_steps_only():
    layer = AttentionPooling(units=5)
    inputs = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0, 0], [1] * 6, [0] * 6], bool)
    pooled, weights = layer(inputs, mask=mask, return_weights=True)
    weights, pooled = _numpy(weights), _numpy(pooled)
    np.testing.assert_allclose(weights.sum(-1), [1.0, 1.0, 0.0], atol=1e-6)
    assert np.all(weights[~mask] == 0) and np.all(weights[mask] > 0)
    np.testing.assert_allclose(pooled, np.einsum("bt,btf->bf", weights, inputs), rtol=1e-5, atol=1e-6)
    assert np.all(pooled[2] == 0)  # no real step: a zero vector
    # What padding holds never matters.
    noisy = inputs.copy()
    noisy[~mask] = 100.0
    np.testing.assert_allclose(_numpy(layer(noisy, mask=mask)), pooled, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell,pooling,bidirectional,layers", [
    ("lstm", "last", True, 1), ("gru", "attention", True, 2), ("min_gru", "mean", False, 1),
    ("sru", "max", True, 1)])
def test_padded_steps_and_segments_change_nothing(cell, pooling, bidirectional, layers):
    encoder = SegmentEncoder(vocab_size=30, embedding_dim=4, units=5, cell=cell, pooling=pooling,
                             bidirectional=bidirectional, num_layers=layers)
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 30, (2, 3, 6)).astype("int32")
    ids[0, 1, 2:] = 0  # a short segment
    ids[1, 2] = 0  # a padding segment
    encoded = _numpy(encoder(ids))
    padded = _numpy(encoder(np.pad(ids, [(0, 0), (0, 2), (0, 3)])))
    np.testing.assert_allclose(padded[:, :3], encoded, rtol=1e-5, atol=1e-6)
    assert encoded.shape == (2, 3, encoder.width)
    assert np.all(encoded[1, 2] == 0) and np.all(padded[:, 3:] == 0)
    assert _numpy(encoder.compute_mask(ids)).tolist() == [[True, True, True], [True, True, False]]


def test_step_attention_weights_of_each_segment_sum_to_one():
    encoder = SegmentEncoder(input_dim=3, units=4, cell="gru", pooling="attention")
    features = np.random.default_rng(2).normal(size=(2, 3, 5, 3)).astype("float32")
    features[0, 0, 3:] = 0
    features[1, 2] = 0
    _, weights = encoder(features, return_weights=True)
    weights = _numpy(weights)
    np.testing.assert_allclose(weights.sum(-1), [[1, 1, 1], [1, 1, 0]], atol=1e-6)
    assert np.all(weights[0, 0, 3:] == 0)
    with pytest.raises(ValueError, match="pooling='attention'"):
        SegmentEncoder(vocab_size=5, pooling="last")(np.ones((1, 1, 2), "int32"), return_weights=True)


def test_a_tagger_saved_with_the_old_character_encoder_loads_with_the_same_outputs():
    # Saved before the character encoder became a SegmentEncoder (Keras 3.15, TensorFlow backend).
    saved = np.load(os.path.join(FILES, "tagger_with_character_encoder.npz"))
    model = keras.saving.load_model(os.path.join(FILES, "tagger_with_character_encoder.keras"), compile=False)
    outputs = _numpy(model({"tokens": saved["tokens"], "characters": saved["characters"]}))
    scale = np.abs(saved["outputs"]).max()
    np.testing.assert_allclose(outputs, saved["outputs"], atol=1e-4 * scale)
    assert type(model.get_layer("character_encoder")).__name__ == "CharacterEncoder"
