"""Magnitude pruning while fine-tuning: the schedule, the masks, the target
sparsity reached and kept, and the pruned model's export."""

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.exporting import example_inputs, export, load_tflite, tflite
from rnnzoo.training.pruning import MagnitudePruning, magnitude_mask, polynomial_sparsity, prunable_weights, sparsity
from rnnzoo.utils.files import gzipped_size


def test_the_schedule_rises_cubically_to_the_target():
    values = [polynomial_sparsity(t, 0.8, begin_step=10, end_step=110) for t in (0, 10, 60, 110, 500)]
    assert values[0] == 0.0 and values[1] == 0.0 and values[3] == values[4] == pytest.approx(0.8)
    assert values[2] == pytest.approx(0.8 * (1 - 0.5 ** 3))  # most of the pruning happens early


def test_the_mask_keeps_the_largest_magnitudes():
    values = np.array([[0.1, -3.0], [2.0, -0.2]], "float32")
    np.testing.assert_array_equal(magnitude_mask(values, 0.5), [[0, 1], [1, 0]])
    assert magnitude_mask(values, 0.0).all()


@pytest.mark.parametrize("cell, bidirectional", [("lstm", True), ("gru", False), ("min_gru", False)])
def test_fine_tuning_reaches_the_target_and_keeps_it(cell, bidirectional, tmp_path):
    model = rnnzoo.build_model("many_to_one", vocab_size=40, num_classes=3, units=16, cell=cell,
                               bidirectional=bidirectional, num_layers=2)
    weights = prunable_weights(model)
    # Input and recurrent kernels per layer and direction (minGRU has no recurrent matrix).
    assert len(weights) == (2 if cell == "min_gru" else 2 * 2 * (2 if bidirectional else 1))
    inputs = example_inputs(model, 8, batch_size=64, seed=1)["tokens"]
    labels = np.random.default_rng(0).integers(0, 3, 64)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    pruning = MagnitudePruning(0.8, end_step=12, frequency=4)
    model.fit(inputs, labels, batch_size=16, epochs=4, verbose=0, callbacks=[pruning])  # 16 steps
    found = sparsity(model)
    assert found and all(value == pytest.approx(0.8, abs=0.01) for value in found.values()), found
    # Another fit with the same callback keeps the zeros (the masks stay after the schedule).
    model.fit(inputs, labels, batch_size=16, epochs=1, verbose=0, callbacks=[pruning])
    assert all(value >= 0.79 for value in sparsity(model).values())
    if cell == "lstm" and keras.backend.backend() == "tensorflow":  # the pruned model exports, its zeros compress
        report = export(model, tmp_path / "pruned", format="tflite", inputs=inputs[:4])
        assert report["parity"]["max_abs_diff"] < 1e-4
        unpruned = rnnzoo.build_model("many_to_one", vocab_size=40, num_classes=3, units=16, cell=cell,
                                      bidirectional=bidirectional, num_layers=2)
        export(unpruned, tmp_path / "dense", format="tflite", inputs=inputs[:4])
        assert gzipped_size(tmp_path / "pruned" / "model.tflite") < gzipped_size(tmp_path / "dense" / "model.tflite")
        assert tflite.model_ops(load_tflite(tmp_path / "pruned"))


def test_bad_pruning_options_are_named():
    with pytest.raises(ValueError, match=r"`target_sparsity` must be in \[0, 1\)"):
        MagnitudePruning(1.0, end_step=10)
    with pytest.raises(ValueError, match="begin_step <= end_step"):
        MagnitudePruning(0.5, end_step=5, begin_step=10)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="no recurrent layer"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0, callbacks=[MagnitudePruning(0.5, end_step=2)])
