"""PyTorch's fused LSTM and GRU kernels for `lstm` and `gru` on the torch backend.

Keras' torch backend runs PyTorch's fused kernel only on CUDA and only
without a mask; on the CPU, and whenever there is a padding mask, it steps a
Python loop over time. Here the ATen kernels (`torch._VF.lstm` /
`torch._VF.gru`: oneDNN on the CPU for the LSTM, cuDNN on CUDA) run on every
device, with Keras' weights (no copy kept: gradients flow back to the Keras
variables) and Keras' semantics for right-padded masks, in one run of the
kernel over the padded batch:

- outputs at real positions are exact: with right padding, no real step sees
  a padded one;
- the last output is the output at `length - 1`; padded positions get what
  Keras' loop gives them (zeros, or the last output repeated);
- `go_backwards` reverses each sequence's real steps in place, runs forward,
  and lays the outputs out as Keras' loop does (padding first, as zeros);
- the final states, when the layer returns or keeps them and some sequence is
  padded, are held through the padding inside the kernel: one more input
  feature, 1 at padded steps, with a weight of +-1e4 into the gates, saturates
  them there (the LSTM's forget gate to exactly 1 and input gate to exactly
  0, so the cell state is carried unchanged; the GRU's update gate to exactly
  1, so h is), and their derivatives to exactly 0. A packed sequence would do
  the same but is about 4x slower on the CPU, where oneDNN takes no packed
  input (slower than Keras' own loop there).

A mask that is not right padding (holes, left padding) falls back to Keras'
loop. This module imports torch; only the torch backend calls it.
"""

import weakref

import torch

from keras import activations

# The hold feature's weight into the saturated gates: sigmoid(+-1e4) is exactly 1 / 0 in float16 and float32.
HOLD = 1e4


def why_not_fused(layer):
    """Why `layer` (our LSTM or GRU) cannot take the fused kernel, or None."""
    cell = layer.cell
    if layer.use_cudnn not in ("auto", True):
        return "use_cudnn=False"
    if layer.recurrent_dropout:
        return "recurrent_dropout"
    if layer.unroll:
        return "unroll=True"
    if cell.activation is not activations.tanh or cell.recurrent_activation is not activations.sigmoid:
        return "activations other than tanh / sigmoid"
    if getattr(cell, "reset_after", True) is False:
        return "reset_after=False (PyTorch's GRU resets after the recurrent matmul)"
    return None


def _tracing():
    """Whether PyTorch is tracing the model for an export (ONNX): no branch
    may then depend on a batch's values."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def _lengths_if_right_padded(mask):
    """Per-sequence lengths (int64) if `mask` (batch, time) is right padding, else None."""
    mask = mask.to(torch.bool)
    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if not bool(torch.equal(steps[None, :] < lengths[:, None], mask)):
        return None
    return lengths


def _tensor(weight):
    """A variable's value, or the tensor that stands in for it (a weight-dropped recurrent kernel)."""
    return weight.value if hasattr(weight, "value") else weight


def _lstm_weights(cell, dtype):
    units = cell.units
    kernel = cell.kernel.value.to(dtype)
    weights = [kernel.T, _tensor(cell.recurrent_kernel).to(dtype).T]
    bias = cell.bias.value.to(dtype) if cell.use_bias else kernel.new_zeros(4 * units)
    return weights + [bias, kernel.new_zeros(4 * units)]


def _gru_weights(cell, dtype):
    """Keras orders the GRU's gates (z, r, h), PyTorch (r, z, n)."""
    units = cell.units

    def reorder(matrix):  # (..., 3 * units) in Keras' order -> PyTorch's order
        z, r, h = torch.split(matrix, units, dim=-1)
        return torch.cat([r, z, h], dim=-1)

    kernel = cell.kernel.value.to(dtype)
    weights = [reorder(kernel).T, reorder(_tensor(cell.recurrent_kernel).to(dtype)).T]
    if cell.use_bias:
        bias = reorder(cell.bias.value.to(dtype))
        return weights + [bias[0], bias[1]]
    return weights + [kernel.new_zeros(3 * units), kernel.new_zeros(3 * units)]


def _run(kind, inputs, states, weights):
    """One layer, one direction, batch-major: outputs and final states."""
    hx = tuple(s[None] for s in states) if kind == "lstm" else states[0][None]
    kernel = torch._VF.lstm if kind == "lstm" else torch._VF.gru
    result = kernel(inputs, hx, weights, True, 1, 0.0, torch.is_grad_enabled(), False, True)
    return result[0], [state[0] for state in result[1:]]


def _hold_through_padding(kind, inputs, weights, real):
    """Inputs and weights with one more feature, 1 at padded steps, which
    saturates the gates that carry the states unchanged (module docstring)."""
    units = weights[1].shape[1]
    # PyTorch's gate order: LSTM (i, f, g, o), GRU (r, z, n).
    signs = [-1.0, 1.0, 0.0, 0.0] if kind == "lstm" else [0.0, 1.0, 0.0]
    column = torch.repeat_interleave(inputs.new_tensor(signs) * HOLD, units)[:, None]
    padded = (~real)[:, :, None].to(inputs.dtype)
    return torch.cat([inputs, padded], dim=-1), [torch.cat([weights[0], column], dim=1)] + weights[1:]


def _gather_steps(sequences, index):
    """`sequences[b, index[b, t]]` for (batch, time, features) sequences."""
    return torch.gather(sequences, 1, index[:, :, None].expand(-1, -1, sequences.shape[2]))


# Inference only: each cell's kernel-layout weights, made once per weight update (the kernels
# otherwise copy the transposed Keras matrices on every call).
_INFERENCE_WEIGHTS = weakref.WeakKeyDictionary()


def _kernel_weights(kind, cell, dtype):
    make = _lstm_weights if kind == "lstm" else _gru_weights
    if torch.is_grad_enabled():
        return make(cell, dtype)  # built in the autograd graph, so gradients reach the Keras variables
    sources = [variable.value for variable in cell.weights]  # frozen cells too: their weights can still be set
    key = (dtype, [source._version for source in sources])
    cached = _INFERENCE_WEIGHTS.get(cell)
    if cached is None or cached[1] != key or any(a is not b for a, b in zip(cached[0], sources)):
        cached = (sources, key, [w.contiguous() for w in make(cell, dtype)])
        _INFERENCE_WEIGHTS[cell] = cached
    return cached[2]


def fused_inner_loop(layer, kind, sequences, initial_state, mask):
    """`(last_output, outputs, states)` as Keras' `RNN.inner_loop` returns
    them, from PyTorch's fused kernel; None when the mask is not right padding."""
    weights = _kernel_weights(kind, layer.cell, sequences.dtype)
    states = [torch.as_tensor(state).to(sequences.dtype) for state in initial_state]
    steps = sequences.shape[1]
    lengths = None
    if mask is not None and _tracing():  # an exported graph (ONNX) takes right-padded batches, as TFLite's does
        lengths = mask.to(torch.int64).sum(dim=1)
    elif mask is not None:
        lengths = _lengths_if_right_padded(mask)
        if lengths is None:
            return None
        if bool((lengths == steps).all()):
            lengths = None  # no padding in this batch: the plain run is exact
    positions = torch.arange(steps, device=sequences.device)

    if lengths is None:
        inputs = torch.flip(sequences, dims=[1]) if layer.go_backwards else sequences
        outputs, final = _run(kind, inputs, states, weights)
        last = outputs[:, -1]
        return last, (outputs if layer.return_sequences else last[:, None]), final

    real = positions[None, :] < lengths[:, None]  # (batch, time)
    if layer.go_backwards:  # each sequence's real steps reversed in place
        reverse = torch.where(real, lengths[:, None] - 1 - positions[None, :], positions[None, :])
        sequences = _gather_steps(sequences, reverse)
    if layer.return_state or layer.stateful:
        sequences, weights = _hold_through_padding(kind, sequences, weights, real)
    outputs, final = _run(kind, sequences, states, weights)
    empty = (lengths == 0)[:, None]  # no real step: Keras' loop gives zeros and keeps the initial states
    at_length = _gather_steps(outputs, (lengths - 1).clamp(min=0)[:, None])[:, 0]
    last = torch.where(empty, torch.zeros_like(at_length), at_length)
    if not (layer.return_state or layer.stateful):
        final = [last] + [torch.zeros_like(state) for state in states[1:]]  # not used by the layer
    elif kind == "lstm":  # c was held through the padding; h there is not held (the output gate), so read it
        final = [torch.where(empty, states[0], at_length), final[1]]
    if layer.zero_output_for_mask and not layer.go_backwards:
        last = last * (lengths == steps)[:, None].to(last.dtype)  # Keras' loop ends on a zeroed padded step
    if not layer.return_sequences:
        return last, last[:, None], final
    realf = real[:, :, None].to(outputs.dtype)
    if layer.go_backwards:  # Keras' loop reads the padding first: outputs[t] = run[t - padding]
        padding = (steps - lengths)[:, None]
        shifted = _gather_steps(outputs, (positions[None, :] - padding).clamp(min=0))
        return last, shifted * torch.flip(realf, dims=[1]), final
    if layer.zero_output_for_mask:
        return last, outputs * realf, final
    return last, outputs * realf + last[:, None] * (1 - realf), final
