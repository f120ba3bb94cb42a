"""Which kernel each recurrent layer of a model ran, and why not a fused one.

A layer records the kernel when it traces or runs (`record`), so the report
says what happened on this backend and device, not what could have:

- `cudnn`: Keras' cuDNN kernel (TensorFlow or JAX on a GPU; `lstm` / `gru`
  with tanh / sigmoid, no `recurrent_dropout`, not unrolled);
- `pytorch_fused`: PyTorch's ATen kernel (`torch._VF.lstm` / `gru`: oneDNN
  on a CPU for the LSTM, cuDNN on CUDA), on the torch backend
  (`cells.torch_kernels`, with right-padded masks);
- `keras_loop`: Keras' step loop (a TensorFlow `while_loop`, a JAX
  `lax.scan`, a Python loop on torch); `keras_jax_gru_scan`: Keras' JAX GRU
  without a mask (the input projections at once, then `lax.scan`);
- `parallel_scan` / `chunked_scan` / `step_loop`: an efficient cell's
  `ProjectedRNN` (a linear recurrence scanned in parallel, a matrix memory
  a chunk at a time, or the step loop over its precomputed projections).

`kernel_report(model)` lists every recurrent layer (inside `Bidirectional`
wrappers and nested models too) with its kernel and, when it is not a fused
one, `why_not_fused`. `tflite_kernel(ops)` says the same of a TFLite file.
"""

import keras

from keras.src import backend as keras_backend  # the active backend's `cudnn_ok`, as Keras' layers call it

def record(layer, kernel, why_not_fused=None):
    """Note on `layer` the kernel its last trace or call ran."""
    layer._rnnzoo_kernel = (kernel, why_not_fused)


def keras_kernel(layer, mask):
    """`(kernel, why_not_fused)` of Keras' own `LSTM` / `GRU` `layer` on the
    TensorFlow or JAX backend, by the rules Keras' `inner_loop` follows."""
    cell, backend = layer.cell, keras.backend.backend()
    gru = hasattr(cell, "reset_after")
    why = None
    if layer.use_cudnn not in ("auto", True):
        why = "use_cudnn=False"
    elif layer.recurrent_dropout:
        why = "recurrent_dropout"
    elif layer.unroll:
        why = "unroll=True"
    elif cell.activation is not keras.activations.tanh or cell.recurrent_activation is not keras.activations.sigmoid:
        why = "activations other than tanh / sigmoid"
    elif not cell.use_bias:
        why = "use_bias=False"
    elif gru and not cell.reset_after:
        why = "reset_after=False"
    elif backend == "jax" and mask is not None:
        why = "a padding mask (JAX's cuDNN path takes none)"
    elif backend == "jax" and gru:  # Keras' JAX GRU: the input projections at once, then lax.scan
        return "keras_jax_gru_scan", "JAX has no cuDNN GRU (jax.experimental.rnn has the LSTM only)"
    elif not keras_backend.cudnn_ok(cell.activation, cell.recurrent_activation, layer.unroll, use_bias=True):
        why = "no GPU (cuDNN runs on GPUs only)"
    return ("keras_loop", why) if why else ("cudnn", None)


def _recurrent_layers(model):
    """Every `keras.layers.RNN` in `model`, nested ones included, once each."""
    seen, found = set(), []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.RNN) and id(layer) not in seen:
            seen.add(id(layer))
            found.append(layer)
    return found


def kernel_report(model):
    """`[{layer, cell, kernel, why_not_fused}]` for every recurrent layer of
    `model` that has run on this backend (see the module)."""
    rows = []
    for layer in _recurrent_layers(model):
        kernel, why = getattr(layer, "_rnnzoo_kernel", (None, None))
        if kernel is None:  # a Keras layer rnnzoo does not subclass (SimpleRNN, RNN over a cell)
            kernel, why = "keras_loop", f"Keras has no fused kernel for {type(layer.cell).__name__}"
        rows.append({"layer": layer.path if hasattr(layer, "path") else layer.name,
                     "cell": type(layer.cell).__name__, "kernel": kernel, "why_not_fused": why})
    return rows


def tflite_kernel(ops):
    """The recurrent kernel of a TFLite file from its ops: TFLite's fused
    LSTM, a `WHILE` loop, or the steps unrolled (None: no recurrence)."""
    if any(op in ops for op in ("UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM")):
        return "tflite_fused_lstm"
    if "WHILE" in ops:
        return "tflite_while_loop"
    return None

