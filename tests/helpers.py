"""One test helper per kind of check, reused by every test module."""

import json
import os

import keras
import numpy as np

import rnnzoo
from rnnzoo.exporting.example_inputs import example_inputs
from rnnzoo.topologies import Forecaster, SequenceGenerator, get_model_entry
from rnnzoo.topologies.registry import _accepted_arguments

# Tiny configurations per topology; variants keep whatever they fix.
TINY_COMMON = dict(units=4, num_layers=2, embedding_dim=4)
TINY_BY_TOPOLOGY = {
    "many_to_one": dict(vocab_size=11, num_classes=3),
    "many_to_many": dict(vocab_size=11, num_classes=3),
    "bidirectional": dict(vocab_size=11, num_classes=3),
    "hierarchical": dict(vocab_size=11, num_classes=3),
    "encoder_decoder": dict(source_vocab_size=11, target_vocab_size=9),
    "one_to_many": dict(input_dim=6, vocab_size=9),
    "segment_rnn": dict(lookback=8, horizon=4, channels=2, segment_length=2, dropout=0.1),
    "direct_forecaster": dict(lookback=8, horizon=4, channels=2, dropout=0.1, channel_independent=True),
    "seq2seq_forecaster": dict(lookback=8, horizon=4, channels=2, dropout=0.1),
    "multiscale_forecaster": dict(lookback=8, horizon=4, channels=2, segment_length=4, dropout=0.1),
}


def tiny_kwargs(name, **overrides):
    """Tiny arguments for a registered model; a variant's own choices stay."""
    entry = get_model_entry(name)
    fixed = entry.default_arguments()
    accepted = _accepted_arguments(entry.builder)
    kwargs = {
        k: v for k, v in {**TINY_COMMON, **TINY_BY_TOPOLOGY[entry.topology]}.items()
        if k not in fixed and k in accepted
    }
    kwargs.update(overrides)
    return kwargs


def build_tiny(name, **overrides):
    return rnnzoo.build_model(name, **tiny_kwargs(name, **overrides))


def _config(model):
    return model.get_config()


def make_inputs(model, length, batch_size=3, seed=0):
    """Random valid inputs (`rnnzoo.exporting.example_inputs`); a single input is
    returned as an array."""
    inputs = example_inputs(model, length, batch_size=batch_size, seed=seed)
    if len(inputs) == 1:
        return next(iter(inputs.values()))
    return inputs


def make_targets(model, outputs, seed=1):
    """Learnable labels shaped like the outputs: class ids (from 1 for
    per-step outputs, since 0 is padding), or real values for regression."""
    rng = np.random.default_rng(seed)
    config = _config(model)
    shape = tuple(outputs.shape)
    if config.get("task") == "regression" or isinstance(model, Forecaster):
        return rng.normal(size=shape).astype("float32")
    low = 1 if len(shape) == 3 else 0
    return rng.integers(low, shape[-1], size=shape[:-1]).astype("int32")


def expected_output_shape(model, inputs, batch_size):
    config = _config(model)
    if isinstance(model, Forecaster):  # a fixed window in, the horizon out
        return (batch_size, config["horizon"], config["channels"])
    if isinstance(model, SequenceGenerator):
        vocab = config.get("target_vocab_size") or config["vocab_size"]
        return (batch_size, inputs["decoder_tokens"].shape[1], vocab)
    size = config["num_outputs"] if config.get("task") == "regression" else config["num_classes"]
    if isinstance(model, rnnzoo.ManyToMany) or config.get("per_segment"):
        return (batch_size, inputs.shape[1], size)
    return (batch_size, size)


def run_output_shape_test(model, lengths=(1, 3, 17), batch_size=3):
    for length in lengths:
        inputs = make_inputs(model, length, batch_size)
        outputs = model(inputs)
        assert tuple(outputs.shape) == expected_output_shape(model, inputs, batch_size), length
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(outputs)))


def run_config_roundtrip_test(model):
    config = model.get_config()
    restored = type(model).from_config(json.loads(json.dumps(config)))
    assert restored.get_config() == json.loads(json.dumps(config))
    assert restored.count_params() == model.count_params()


def run_save_load_test(model, tmp_path, length=5):
    inputs = make_inputs(model, length)
    expected = keras.ops.convert_to_numpy(model(inputs))
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)  # safe_mode=True, no custom_objects
    assert type(restored) is type(model)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(inputs)), expected, rtol=1e-5, atol=1e-6
    )
    assert type(restored.loss) is type(model.loss)
    return restored


def run_training_test(model, steps=15, length=6, batch_size=8, learning_rate=0.02):
    """A few optimizer steps on one fixed batch (one compiled train step,
    called `steps` times) lower the loss."""
    inputs = make_inputs(model, length, batch_size)
    targets = make_targets(model, model(inputs))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))  # loss stays "auto"
    history = [float(model.train_on_batch(inputs, targets, return_dict=True)["loss"]) for _ in range(steps)]
    assert np.all(np.isfinite(history)), history
    assert history[-1] < 0.98 * history[0], history


# --- Real datasets in ../shared/data ---------------------------------------------

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shared_data(name):
    """Folder of a real dataset: `$RNNZOO_DATA/name` or `../shared/data/name`
    beside the project. Skips the test (with the reason) when it is absent."""
    import pytest

    root = os.environ.get("RNNZOO_DATA") or os.path.join(os.path.dirname(PROJECT_ROOT), "shared", "data")
    folder = os.path.join(root, name)
    if not os.path.isdir(folder):
        pytest.skip(f"real dataset {name!r} not found at {folder} (set RNNZOO_DATA to run this test)")
    return folder
