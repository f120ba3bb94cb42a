"""The torch backend: PyTorch's fused LSTM / GRU kernels behind `lstm` and
`gru` (`rnnzoo.cells.torch_kernels`) give the same outputs, states and
gradients as Keras' step loop, with right padding, both directions, initial
states and streams; what needs TensorFlow says so. Run under
`KERAS_BACKEND=torch` (CI's torch run)."""

import itertools

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.cells.standard import GRU, LSTM

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="PyTorch's kernels run under KERAS_BACKEND=torch (CI's torch run)")

BATCH, STEPS, FEATURES, UNITS = 5, 7, 3, 4
LENGTHS = np.array([7, 3, 1, 0, 5])  # a full row, padded rows, an empty one


def padded_inputs(seed=0):
    rng = np.random.default_rng(seed)
    mask = np.arange(STEPS)[None, :] < LENGTHS[:, None]
    return (rng.normal(size=(BATCH, STEPS, FEATURES)) * mask[..., None]).astype("float32"), mask


def fused_and_loop(layer_class, **options):
    """The same layer twice: fused, and through Keras' loop (`use_cudnn=False`)."""
    fused, loop = layer_class(UNITS, **options), layer_class(UNITS, use_cudnn=False, **options)
    fused.build((None, None, FEATURES))
    loop.build((None, None, FEATURES))
    loop.set_weights([np.random.default_rng(1).normal(size=w.shape).astype("float32") for w in fused.get_weights()])
    fused.set_weights(loop.get_weights())
    return fused, loop


def as_list(outputs):
    return [keras.ops.convert_to_numpy(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


@pytest.fixture
def fused_calls(monkeypatch):
    """Counts the calls that took the fused kernel."""
    from rnnzoo.cells import torch_kernels

    calls = []
    original = torch_kernels.fused_inner_loop

    def counted(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(torch_kernels, "fused_inner_loop", counted)
    return calls


@pytest.mark.parametrize("layer_class", [LSTM, GRU])
def test_fused_kernel_equals_keras_loop_with_padding(layer_class, fused_calls):
    x, mask = padded_inputs()
    rng = np.random.default_rng(2)
    combinations = itertools.product([True, False], [True, False], [True, False], [None, mask])
    for return_sequences, return_state, go_backwards, batch_mask in combinations:
        options = dict(return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards)
        fused, loop = fused_and_loop(layer_class, **options)
        states = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(2 if layer_class is LSTM else 1)]
        got = as_list(fused(x, mask=batch_mask, initial_state=states))
        expected = as_list(loop(x, mask=batch_mask, initial_state=states))
        assert len(got) == len(expected) == 1 + return_state * len(states)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=1e-5, err_msg=str(options))
    assert fused_calls and all(fused_calls)


@pytest.mark.parametrize("layer_class", [LSTM, GRU])
@pytest.mark.parametrize("options", [dict(return_sequences=True), dict(return_state=True, go_backwards=True)])
def test_fused_gradients_equal_keras_loop(layer_class, options):
    """Through the outputs, and through final states held across the padding."""
    import torch

    x, mask = padded_inputs(3)
    gradients = []
    for layer in fused_and_loop(layer_class, **options):
        inputs = torch.tensor(x, requires_grad=True)
        outputs = layer(inputs, mask=mask)
        sum((o ** 2).sum() for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])).backward()
        gradients.append([inputs.grad.numpy()] + [w.value.grad.numpy() for w in layer.trainable_weights])
    for fused, loop in zip(*gradients):
        np.testing.assert_allclose(fused, loop, atol=1e-5)


def test_masks_other_than_right_padding_take_keras_loop(fused_calls):
    x, mask = padded_inputs()
    left = mask[:, ::-1].copy()  # left padding
    fused, loop = fused_and_loop(LSTM, return_sequences=True)
    np.testing.assert_allclose(as_list(fused(x[:, ::-1], mask=left))[0], as_list(loop(x[:, ::-1], mask=left))[0],
                               atol=1e-5)
    assert fused_calls == [False]


def test_stateful_stream_carries_states_across_calls():
    x, _ = padded_inputs()
    x = x[:1]
    whole = LSTM(UNITS, return_sequences=True)
    stream = LSTM(UNITS, return_sequences=True, stateful=True)
    whole.build((1, None, FEATURES))
    stream.build((1, None, FEATURES))
    stream.set_weights(whole.get_weights())
    halves = [as_list(stream(x[:, :3]))[0], as_list(stream(x[:, 3:]))[0]]
    np.testing.assert_allclose(np.concatenate(halves, axis=1), as_list(whole(x))[0], atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_stateful_language_model_trains_on_consecutive_windows(cell, fused_calls):
    # Keras writes each call's final states into the state variables in place; the fused kernel's
    # backward pass needs the states it read, so it must read copies (this failed before).
    model = rnnzoo.build_model("many_to_many", cell=cell, vocab_size=12, num_classes=12, units=6, embedding_dim=4,
                               bidirectional=False, stateful=True, batch_size=2,
                               cell_options={"weight_drop": 0.5})
    windows = np.random.default_rng(0).integers(1, 12, (3, 2, 5))
    losses = [model.train_on_batch(ids, np.roll(ids, -1, axis=1))[0] for ids in windows]
    assert all(np.isfinite(losses)) and fused_calls and all(fused_calls)


def test_options_the_kernel_lacks_fall_back_with_a_reason():
    from rnnzoo.cells import torch_kernels

    assert torch_kernels.why_not_fused(LSTM(4)) is None
    assert torch_kernels.why_not_fused(GRU(4)) is None
    assert torch_kernels.why_not_fused(LSTM(4, recurrent_dropout=0.1)) == "recurrent_dropout"
    assert torch_kernels.why_not_fused(GRU(4, reset_after=False)).startswith("reset_after=False")
    assert torch_kernels.why_not_fused(LSTM(4, activation="relu")) == "activations other than tanh / sigmoid"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stacked_bidirectional_tagger_matches_its_loop_twin_and_trains(cell, fused_calls):
    options = dict(cell=cell, vocab_size=30, num_classes=5, units=8, embedding_dim=6, num_layers=2,
                   bidirectional=True)
    model = rnnzoo.build_model("many_to_many", **options)
    twin = rnnzoo.build_model("many_to_many", cell_options={"use_cudnn": False}, **options)
    twin.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 30, size=(16, 9)) * (np.arange(9)[None, :] < rng.integers(2, 10, size=(16, 1)))
    tokens = tokens.astype("int32")
    np.testing.assert_allclose(model.predict(tokens, verbose=0), twin.predict(tokens, verbose=0), atol=1e-5)
    assert fused_calls and all(fused_calls)
    labels = np.where(tokens > 0, tokens % 4 + 1, 0).astype("int32")
    losses = model.fit(tokens, labels, epochs=6, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    # Inference reuses the kernel-layout weights until the variables change (training, set_weights).
    twin.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(tokens, verbose=0), twin.predict(tokens, verbose=0), atol=1e-5)
    model.set_weights([w * 0.5 for w in model.get_weights()])
    twin.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(tokens, verbose=0), twin.predict(tokens, verbose=0), atol=1e-5)


def test_what_needs_tensorflow_says_so(tmp_path):
    model = rnnzoo.build_model("many_to_one", vocab_size=10, num_classes=2, units=4, embedding_dim=4)
    with pytest.raises(ValueError, match=r"export needs the TensorFlow backend \(KERAS_BACKEND=tensorflow\); "
                                         r"this process runs Keras on torch"):
        rnnzoo.export(model, tmp_path / "out", format="tflite")
    assert not (tmp_path / "out").exists()


def test_inference_weights_follow_set_weights_on_a_frozen_layer():
    import torch

    x, mask = padded_inputs(4)
    fused, loop = fused_and_loop(GRU, return_sequences=True)
    fused.trainable = False
    with torch.no_grad():
        fused(x, mask=mask)  # caches the kernel-layout weights
        fused.set_weights([w * 0.5 for w in fused.get_weights()])
        loop.set_weights(fused.get_weights())
        np.testing.assert_allclose(as_list(fused(x, mask=mask))[0], as_list(loop(x, mask=mask))[0], atol=1e-5)


@pytest.mark.parametrize("padding", ["right", "left"])
def test_input_dropout_is_applied_once_fused_or_not(padding):
    """Training with `dropout`: the fused kernel and Keras' loop (taken for left
    padding) each apply the cell's input mask once, as the loop twin does."""
    x, mask = padded_inputs(5)
    if padding == "left":
        x, mask = x[:, ::-1].copy(), mask[:, ::-1].copy()
    fused, loop = fused_and_loop(LSTM, return_sequences=True, dropout=0.5)
    for layer in (fused, loop):  # the same, known input mask in both
        layer.cell.get_dropout_mask = lambda step_inputs: keras.ops.full(keras.ops.shape(step_inputs), 2.0)
    np.testing.assert_allclose(as_list(fused(x, mask=mask, training=True))[0],
                               as_list(loop(x, mask=mask, training=True))[0], atol=1e-5)
