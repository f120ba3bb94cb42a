"""The standard cells, backed by Keras' fused recurrent layers.

Keras' `LSTM` and `GRU` take the cuDNN kernel on a GPU when their arguments
allow it (tanh/sigmoid activations, no `recurrent_dropout`, right-padded
masks), so we register the layers themselves rather than `RNN(LSTMCell(...))`,
which never does.
"""

import keras

from rnnzoo.cells.registry import register_cell


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
    return keras.layers.LSTM(units, **options)


@register_cell("gru", num_states=1)
def gru(units, reset_after=True, **options):
    """GRU (Cho et al. 2014), reset gate after the recurrent matmul; cuDNN on GPU."""
    return keras.layers.GRU(units, reset_after=reset_after, **options)
