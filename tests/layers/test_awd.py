"""The AWD-LSTM regularizers: weight drop (DropConnect on recurrent
kernels), locked dropout, embedding dropout, AR / TAR and tied embeddings are
identity at inference and drop (or add) what they say in training, with
statistics on fixed seeds; ULMFiT's concat pooling reads what it says."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnzoo
from rnnzoo.cells.standard import GRU, LSTM
from rnnzoo.layers.awd import ActivationRegularization, EmbeddingDropout, locked_dropout

RATE = 0.3


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _binomial_bounds(n, rate):
    """An interval holding the dropped fraction of `n` draws with
    probability > 0.9999 (5 standard deviations)."""
    sigma = np.sqrt(rate * (1 - rate) / n)
    return rate - 5 * sigma, rate + 5 * sigma


def test_embedding_dropout_drops_whole_words_for_the_batch():
    vocab = 2000
    layer = EmbeddingDropout(vocab, RATE, seed=1)
    ids = np.tile(np.arange(vocab), 2).reshape(4, vocab // 2)  # each word twice
    embedded = np.ones((4, vocab // 2, 3), "float32")
    assert np.array_equal(_numpy(layer(embedded, ids=ids, training=False)), embedded)
    dropped = _numpy(layer(embedded, ids=ids, training=True))
    per_word = np.zeros((vocab, 3))
    per_word[ids.reshape(-1)] = dropped.reshape(-1, 3)
    assert set(np.unique(dropped)) <= {0.0, np.float32(1 / (1 - RATE))}
    for copy in (dropped[:2].reshape(-1, 3), dropped[2:].reshape(-1, 3)):  # the same word, the same fate
        np.testing.assert_array_equal(copy, per_word)
    assert np.all(per_word == per_word[:, :1])  # a word is dropped whole, every feature
    low, high = _binomial_bounds(vocab, RATE)
    assert low < np.mean(per_word[:, 0] == 0) < high


def test_locked_dropout_shares_one_mask_over_time():
    layer = locked_dropout(RATE)
    inputs = np.ones((50, 9, 40), "float32")
    assert np.array_equal(_numpy(layer(inputs, training=False)), inputs)
    dropped = _numpy(layer(inputs, training=True))
    assert np.all(dropped == dropped[:, :1])
    low, high = _binomial_bounds(50 * 40, RATE)
    assert low < np.mean(dropped[:, 0] == 0) < high
    assert np.allclose(dropped[dropped != 0], 1 / (1 - RATE))


@pytest.mark.parametrize("layer_class", [LSTM, GRU])
def test_weight_drop_drops_recurrent_weights_in_training_only(layer_class):
    units = 32
    dropped_layer = layer_class(units, weight_drop=RATE, seed=3, return_sequences=True)
    plain = layer_class(units, return_sequences=True)
    inputs = np.random.default_rng(0).normal(size=(4, 6, 5)).astype("float32")
    dropped_layer.build(inputs.shape)
    plain.build(inputs.shape)
    plain.set_weights(dropped_layer.get_weights())
    np.testing.assert_allclose(_numpy(dropped_layer(inputs)), _numpy(plain(inputs)), rtol=1e-5, atol=1e-6)

    kernel = dropped_layer.cell.recurrent_kernel
    before = _numpy(kernel)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(dropped_layer(inputs, training=True)))
    gradient = _numpy(tape.gradient(loss, kernel.value))
    np.testing.assert_array_equal(_numpy(kernel), before)  # the variable itself is never changed
    assert dropped_layer.cell.recurrent_kernel is kernel
    # A dropped weight takes no part, so its gradient is exactly zero; a kept one's is not.
    low, high = _binomial_bounds(gradient.size, RATE)
    assert low < np.mean(gradient == 0) < high
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(plain(inputs, training=True)))
    assert np.mean(_numpy(tape.gradient(loss, plain.cell.recurrent_kernel.value)) == 0) < 0.01
    with pytest.raises(ValueError, match="weight_drop"):
        layer_class(4, weight_drop=1.0)


def test_weight_drop_survives_saving_and_trains_in_a_language_model(tmp_path):
    model = rnnzoo.build_model("many_to_many", vocab_size=20, num_classes=20, units=8, embedding_dim=8,
                               bidirectional=False, cell_options={"weight_drop": RATE})
    ids = np.random.default_rng(0).integers(1, 20, (4, 7))
    assert np.isfinite(model.train_on_batch(ids, np.roll(ids, -1, axis=1))[0])
    model.save(tmp_path / "lm.keras")
    loaded = keras.saving.load_model(tmp_path / "lm.keras")
    assert loaded.get_layer("encoder_rnn_0").weight_drop == RATE
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0), rtol=1e-5, atol=1e-6)


def test_activation_regularization_adds_ar_and_tar_over_real_steps_in_training_only():
    alpha, beta = 2.0, 1.0
    outputs = np.random.default_rng(1).normal(size=(3, 5, 4)).astype("float32")
    mask = np.arange(5)[None] < np.array([5, 2, 1])[:, None]
    layer = ActivationRegularization(alpha, beta)
    layer(outputs, mask=mask, training=False)
    assert not layer.losses
    np.testing.assert_array_equal(_numpy(layer(outputs, mask=mask, training=True)), outputs)
    real = outputs[mask]
    pairs = [(row[t], row[t - 1]) for row, m in zip(outputs, mask) for t in range(1, m.sum())]
    expected = alpha * np.mean(real ** 2) + beta * np.mean([(a - b) ** 2 for a, b in pairs])
    np.testing.assert_allclose(float(_numpy(layer.losses[-1])), expected, rtol=1e-5)


def test_tied_embeddings_share_one_variable_for_input_and_output():
    vocab, dim = 30, 6
    for units in (dim, 10):  # the same width, and a projection to it
        model = rnnzoo.build_model("many_to_many", vocab_size=vocab, num_classes=vocab, units=units,
                                   embedding_dim=dim, bidirectional=False, tie_embeddings=True)
        matrices = [w for w in model.weights if tuple(w.shape) in ((vocab, dim), (dim, vocab), (units, vocab))]
        assert [w.path for w in matrices] == ["embedding/embeddings"]
        ids = np.random.default_rng(2).integers(1, vocab, (2, 5))
        hidden = keras.Model(model.input, model.get_layer("encoder_rnn_0").output)(ids)
        if units != dim:
            hidden = model.get_layer("tie_projection")(hidden)
        bias = model.get_layer("logits").bias  # a bias per token, which ReversibleEmbedding lacks
        bias.assign(np.linspace(-1, 1, vocab))
        expected = _numpy(hidden) @ _numpy(model.get_layer("embedding").embeddings).T + np.linspace(-1, 1, vocab)
        np.testing.assert_allclose(_numpy(model(ids)), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="tie_embeddings"):
        rnnzoo.build_model("many_to_many", vocab_size=vocab, num_classes=5, tie_embeddings=True)


def test_concat_pooling_reads_the_last_real_step_the_max_and_the_mean():
    model = rnnzoo.build_model("many_to_one", vocab_size=20, num_classes=2, units=4, embedding_dim=3,
                               bidirectional=False, pooling="concat")
    ids = np.array([[3, 4, 5, 0, 0], [7, 0, 0, 0, 0], [1, 2, 3, 4, 5]])
    lengths = (ids != 0).sum(1)
    sequences = _numpy(keras.Model(model.input, model.get_layer("encoder_rnn_0").output)(ids))
    pooled = _numpy(keras.Model(model.input, model.get_layer("pooling").output)(ids))
    expected = [np.concatenate([s[n - 1], s[:n].max(0), s[:n].mean(0)]) for s, n in zip(sequences, lengths)]
    np.testing.assert_allclose(pooled, np.array(expected), rtol=1e-5, atol=1e-6)
