"""The standard cells, backed by Keras' fused recurrent layers.

Keras' `LSTM` and `GRU` take the cuDNN kernel on a GPU when their arguments
allow it (tanh/sigmoid activations, no `recurrent_dropout`, right-padded
masks), so we register the layers themselves rather than `RNN(LSTMCell(...))`,
which never does. On the torch backend our subclasses add what Keras lacks
there: PyTorch's fused kernels on every device, with right-padded masks
(`rnnzoo.cells.torch_kernels`). Weights, configs and outputs are Keras' own,
so a model moves between backends unchanged.
"""

import keras
from keras import ops

from rnnzoo.cells import kernels
from rnnzoo.cells.registry import register_cell


class _TorchFused:
    """Mixin: `inner_loop` through PyTorch's fused kernel on the torch
    backend; on every backend, the kernel that ran is recorded
    (`cells.kernels`). With `weight_drop`, DropConnect on the recurrent
    kernel (Wan et al. 2013; AWD-LSTM, Merity et al. 2018): in training, each
    call draws one mask over the hidden-to-hidden matrix, used at every step,
    and scales the kept weights by `1 / (1 - weight_drop)`; the fused kernels
    still run. At inference the kernel is used as is."""

    _kind = None

    def __init__(self, *args, weight_drop=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(weight_drop, bool) or not isinstance(weight_drop, (int, float)) or not 0 <= weight_drop < 1:
            raise ValueError(f"cell {self._kind!r}: `weight_drop` must be a float in [0, 1), got {weight_drop!r}.")
        self.weight_drop = float(weight_drop)
        # Only a weight-dropped layer has a seed (a variable): other files keep their layout.
        self.weight_drop_seed = keras.random.SeedGenerator(self.cell.seed) if self.weight_drop else None

    def get_config(self):
        return {**super().get_config(), "weight_drop": self.weight_drop}

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not (training and self.weight_drop):
            return self._inner_loop(sequences, initial_state, mask, training)
        cell, kernel = self.cell, self.cell.recurrent_kernel
        dropped = keras.random.dropout(ops.convert_to_tensor(kernel), self.weight_drop, seed=self.weight_drop_seed)
        object.__setattr__(cell, "recurrent_kernel", dropped)  # read by every path; not a new weight
        try:
            return self._inner_loop(sequences, initial_state, mask, training)
        finally:
            object.__setattr__(cell, "recurrent_kernel", kernel)

    def _inner_loop(self, sequences, initial_state, mask, training):
        if keras.backend.backend() != "torch":
            kernels.record(self, *kernels.keras_kernel(self, mask[0] if isinstance(mask, (list, tuple)) else mask))
            return super().inner_loop(sequences, initial_state, mask, training=training)
        from rnnzoo.cells import torch_kernels

        why = torch_kernels.why_not_fused(self)
        if why is None:
            if isinstance(mask, (list, tuple)):
                mask = mask[0]
            dropped = sequences
            if training and self.dropout:  # as Keras' LSTM / GRU: one input mask for all steps
                dropped = sequences * ops.expand_dims(self.cell.get_dropout_mask(sequences[:, 0, :]), 1)
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            if self.stateful:  # Keras writes the new states into the variables in place after this call;
                states = [state.clone() for state in states]  # autograd must keep the ones read here
            result = torch_kernels.fused_inner_loop(self, self._kind, dropped, states, mask)
            if result is not None:
                kernels.record(self, "pytorch_fused")
                return result
            why = "a mask that is not right padding"
        kernels.record(self, "keras_loop", why)
        return super().inner_loop(sequences, initial_state, mask, training=training)


@keras.saving.register_keras_serializable(package="rnnzoo")
class LSTM(_TorchFused, keras.layers.LSTM):
    """`keras.layers.LSTM`; on the torch backend, PyTorch's fused LSTM."""

    _kind = "lstm"


@keras.saving.register_keras_serializable(package="rnnzoo")
class GRU(_TorchFused, keras.layers.GRU):
    """`keras.layers.GRU`; on the torch backend, PyTorch's fused GRU."""

    _kind = "gru"


@register_cell("simple", num_states=1)
def simple(units, activation="tanh", **options):
    """Elman RNN, h_t = act(W_x x_t + W_h h_{t-1} + b), act = tanh or relu."""
    if activation not in ("tanh", "relu"):
        raise ValueError(
            f"cell 'simple': `activation` must be 'tanh' or 'relu', got {activation!r}."
        )
    return keras.layers.SimpleRNN(units, activation=activation, **options)


@register_cell("lstm", num_states=2)
def lstm(units, **options):
    """LSTM (Hochreiter & Schmidhuber 1997) with a forget gate; cuDNN on GPU."""
    return LSTM(units, **options)


@register_cell("gru", num_states=1)
def gru(units, reset_after=True, **options):
    """GRU (Cho et al. 2014), reset gate after the recurrent matmul; cuDNN on GPU."""
    return GRU(units, reset_after=reset_after, **options)
