"""QRNN (Bradbury et al. 2017, "Quasi-Recurrent Neural Networks"), with
fo-pooling:

    Z = tanh(W_z * X),  F = sigmoid(W_f * X),  O = sigmoid(W_o * X)
    c_t = f_t * c_{t-1} + (1 - f_t) * z_t,   h_t = o_t * c_t

where `*` is a causal convolution over time of width `window`: step t reads
x_{t-window+1} .. x_t. The convolution runs for the whole sequence at once;
the pooling is elementwise. The convolution is kept as a sum of per-step
products, x_t W_j for the window's positions j, all computed at once; the
state carries, besides c, what the last `window - 1` inputs still add to the
coming steps' gates. So a sequence fed in pieces (streaming, stateful
training, a decoder stepped by hand) gives what it gives whole, and the
state size does not depend on the input size.
"""

import keras
from keras import ops

from rnnzoo.cells.projected import ProjectedCell, causal_conv_step, projected_layer
from rnnzoo.cells.registry import register_cell


@keras.saving.register_keras_serializable(package="rnnzoo")
class QRNNCell(ProjectedCell):
    """Args: units; window (>= 2; the paper's language model uses 2);
    dropout, seed. Kernel `(input_dim, window * 3 * units)`: one block of
    columns (z, f, o) per window position, oldest first, so the last block
    weighs the current step. States: c `(batch, units)` and the pending
    gate contributions of earlier inputs `(batch, (window - 1) * 3 * units)`,
    the next step's first."""

    def __init__(self, units, window=2, **kwargs):
        super().__init__(units, **kwargs)
        if not isinstance(window, int) or window < 2:
            raise ValueError(f"cell 'qrnn': `window` must be an integer >= 2, got {window!r}.")
        self.window = window
        self.state_size = [units, (window - 1) * 3 * units]

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.window * 3 * self.units), name="kernel",
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(3 * self.units,), name="bias", initializer="zeros")

    def project(self, sequence, states):
        return ops.matmul(sequence, self.kernel)

    def step(self, projected, states):
        c_prev, pending = states
        gates, pending = causal_conv_step(projected, pending, 3 * self.units)
        z_pre, f_pre, o_pre = ops.split(gates + self.bias, 3, axis=-1)
        f = ops.sigmoid(f_pre)
        c = f * c_prev + (1.0 - f) * ops.tanh(z_pre)
        h = ops.sigmoid(o_pre) * c
        return h, [c, pending]

    def get_config(self):
        return {**super().get_config(), "window": self.window}


@register_cell("qrnn", num_states=2)
def qrnn(units, dropout=0.0, recurrent_dropout=0.0, window=2, **options):
    """QRNN (Bradbury et al. 2017): causal convolution over time + fo-pooling."""
    return projected_layer("qrnn", QRNNCell(units, window=window, dropout=dropout), recurrent_dropout, **options)
