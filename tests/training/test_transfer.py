"""ULMFiT's fine-tuning: the slanted triangular schedule matches its
formula, discriminative learning rates shrink by the factor per group, and
gradual unfreezing trains exactly the groups it says in each epoch."""

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.training.transfer import (DiscriminativeAdam, GradualUnfreezing, SlantedTriangular, layer_groups,
                                      slanted_triangular)


def test_slanted_triangular_matches_the_formula():
    total, cut_fraction, ratio, peak = 1000, 0.1, 32.0, 0.01
    schedule = SlantedTriangular(peak, total, cut_fraction, ratio)
    cut = 100  # floor(T * cut_frac)
    for step in (0, 1, 50, 99, 100, 101, 550, 999, 1000, 5000):
        p = step / cut if step < cut else max(1 - (step - cut) / (cut * (1 / cut_fraction - 1)), 0.0)
        expected = peak * (1 + p * (ratio - 1)) / ratio
        assert slanted_triangular(step, peak=peak, total_steps=total, cut_fraction=cut_fraction,
                                  ratio=ratio) == pytest.approx(expected)
        assert float(keras.ops.convert_to_numpy(schedule(step))) == pytest.approx(expected, rel=1e-5)
    assert float(keras.ops.convert_to_numpy(schedule(cut))) == pytest.approx(peak)  # the peak at the cut
    assert float(keras.ops.convert_to_numpy(schedule(0))) == pytest.approx(peak / ratio)
    restored = SlantedTriangular.from_config(schedule.get_config())
    assert float(keras.ops.convert_to_numpy(restored(550))) == pytest.approx(
        float(keras.ops.convert_to_numpy(schedule(550))))


def _classifier(vocab_size=40):
    return rnnzoo.build_model("many_to_one", vocab_size=vocab_size, num_classes=2, units=6, embedding_dim=5, num_layers=2,
                              bidirectional=False, pooling="concat", compile=False)


def _data():
    rng = np.random.default_rng(0)
    return rng.integers(1, 40, (16, 7)), rng.integers(0, 2, 16)


def _weights(model):
    return {w.path: np.array(keras.ops.convert_to_numpy(w)) for w in model.trainable_weights}


def test_layer_groups_run_from_the_embedding_up_to_the_head():
    assert layer_groups(_classifier()) == [["embedding"], ["encoder_rnn_0"], ["encoder_rnn_1"], ["logits"]]


def test_gradual_unfreezing_trains_exactly_the_groups_it_says_each_epoch():
    model = _classifier()
    groups = layer_groups(model)
    model.compile(optimizer=DiscriminativeAdam(0.01, layer_groups=groups, unfrozen=1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data()
    said = []
    callback = GradualUnfreezing(log=said.append)
    changed_per_epoch = []
    for epoch in range(len(groups)):
        before = _weights(model)
        model.fit(x, y, batch_size=8, epochs=epoch + 1, initial_epoch=epoch, verbose=0, callbacks=[callback])
        after = _weights(model)
        changed_per_epoch.append({path.split("/")[0] for path in before if np.any(before[path] != after[path])})
    assert changed_per_epoch == [{"logits"}, {"logits", "encoder_rnn_1"}, {"logits", "encoder_rnn_1", "encoder_rnn_0"},
                                 {"logits", "encoder_rnn_1", "encoder_rnn_0", "embedding"}]
    assert said[0] == "epoch 1: training logits" and said[-1].endswith("(every layer)")


def test_discriminative_rates_shrink_by_the_factor_per_group():
    model = _classifier(vocab_size=200)
    groups = layer_groups(model)
    decay = 2.6
    # Adam's first step moves each weight by about its learning rate (m / sqrt(v) = sign of the gradient).
    model.compile(optimizer=DiscriminativeAdam(1e-3, layer_groups=groups, decay=decay, epsilon=1e-12),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data()
    x = np.random.default_rng(1).permutation(np.arange(1, 200))[:x.size].reshape(x.shape)  # no id twice: TF's
    before = _weights(model)  # sparse Adam sums a repeated row's moments, so its first step is not the rate
    model.train_on_batch(x, y)
    after = _weights(model)
    for level, group in enumerate(reversed(groups)):
        steps = np.concatenate([np.abs(after[p] - before[p]).ravel() for p in before if p.split("/")[0] in group])
        moved = steps[steps > 0]
        np.testing.assert_allclose(moved.max(), 1e-3 / decay ** level, rtol=1e-3)  # (a tiny gradient moves less)
    config = model.optimizer.get_config()
    assert config["layer_groups"] == groups and config["decay"] == decay
    assert DiscriminativeAdam.from_config(config).layer_groups == groups
