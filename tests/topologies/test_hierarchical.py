"""The hierarchical topology: padding at both levels, attention weights,
a label per segment, any cell, save/load in safe mode."""

import keras
import numpy as np
import pytest

import rnnzoo


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _documents(rng, vocab=40):
    ids = rng.integers(1, vocab, (3, 4, 6)).astype("int32")
    ids[0, 3] = 0  # three sentences
    ids[1, 1, 2:] = 0  # a short sentence
    return ids


@pytest.mark.parametrize("options", [
    dict(cell="gru"),
    dict(cell="lstm", segment_pooling="last", pooling="max", num_layers=2),
    dict(cell="min_gru", segment_cell="lstm", segment_pooling="mean", pooling="last", bidirectional=False),
    dict(cell="gru", per_segment=True),
], ids=["han", "lstm_last_max", "min_gru_over_lstm", "per_segment"])
def test_padded_words_and_padded_sentences_change_nothing(options):
    model = rnnzoo.build_model("hierarchical", vocab_size=40, units=6, embedding_dim=5, **options)
    ids = _documents(np.random.default_rng(0))
    expected = _numpy(model(ids))
    padded = _numpy(model(np.pad(ids, [(0, 0), (0, 3), (0, 4)])))
    if options.get("per_segment"):
        assert expected.shape == (3, 4, 2)
        padded = padded[:, :4]
    np.testing.assert_allclose(padded, expected, rtol=1e-5, atol=1e-5)


def test_attention_weights_cover_real_words_and_sentences_only():
    model = rnnzoo.build_model("han_classifier", vocab_size=40, units=6, embedding_dim=5)
    ids = np.pad(_documents(np.random.default_rng(1)), [(0, 0), (0, 1), (0, 2)])
    outputs = model.attention_weights(ids)
    np.testing.assert_allclose(outputs["logits"], _numpy(model(ids)), rtol=1e-5, atol=1e-6)
    words, sentences = outputs["step_attention"], outputs["segment_attention"]
    real_words, real_sentences = ids != 0, (ids != 0).any(-1)
    np.testing.assert_allclose(sentences.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(words.sum(-1), real_sentences.astype("float32"), atol=1e-5)
    assert np.all(words[~real_words] == 0) and np.all(sentences[~real_sentences] == 0)


def test_float_segments_a_label_per_segment_and_save_load(tmp_path):
    model = rnnzoo.build_model("hierarchical", input_dim=3, units=5, task="regression", num_outputs=2,
                               per_segment=True, cell="lstm", segment_pooling="attention")
    features = np.random.default_rng(2).normal(size=(4, 5, 6, 3)).astype("float32")
    features[0, 3:] = 0
    targets = np.random.default_rng(3).normal(size=(4, 5, 2)).astype("float32")
    model.fit(features, targets, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)  # safe mode
    np.testing.assert_allclose(_numpy(restored(features)), _numpy(model(features)), rtol=1e-5, atol=1e-6)
    assert restored.attention_weights(features)["step_attention"].shape == (4, 5, 6)


@pytest.mark.parametrize("kwargs,message", [
    (dict(vocab_size=10, segment_pooling="first"), "`segment_pooling`"),
    (dict(vocab_size=10, pooling="sum"), "`pooling`"),
    (dict(vocab_size=10, segment_layers=0), "`num_layers`"),
    (dict(vocab_size=10, input_dim=3), "exactly one of `vocab_size`"),
])
def test_invalid_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rnnzoo.build_model("hierarchical", **kwargs)
