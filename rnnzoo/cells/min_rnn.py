"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?").

Their gates read only the input, so the recurrence is linear in the state,
h_t = a_t * h_{t-1} + b_t, and trains with a parallel scan over time
(`ProjectedRNN`). The equations are the paper's sequential-mode ones
(Algorithms 2 and 4); the scan computes the same values.
`cell_options={"parallel_scan": True}` forces the scan (default "auto":
the scan on GPU/TPU, the step loop on CPU, where it is faster).
"""

import keras
from keras import ops

from rnnzoo.cells.projected import ProjectedCell, projected_layer
from rnnzoo.cells.registry import register_cell


class _MinCell(ProjectedCell):
    linear_recurrence = True
    num_parts = None  # projections per unit

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(units, **kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(shape=(input_dim, self.num_parts * self.units), name="kernel",
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(shape=(self.num_parts * self.units,), name="bias", initializer="zeros")

    def project(self, sequence, states):
        return ops.matmul(sequence, self.kernel) + self.bias

    def step(self, projected, states):
        a, b = self.coefficients(projected)
        h = a * states[0] + b
        return h, [h]

    def get_config(self):
        return {**super().get_config(),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable(package="rnnzoo")
class MinGRUCell(_MinCell):
    """z_t = sigmoid(W_z x_t + b_z); h~_t = W_h x_t + b_h;
    h_t = (1 - z_t) * h_{t-1} + z_t * h~_t. Kernel columns: z, h~."""

    num_parts = 2

    def coefficients(self, projected):
        z_pre, candidate = ops.split(projected, 2, axis=-1)
        z = ops.sigmoid(z_pre)
        return 1.0 - z, z * candidate


@keras.saving.register_keras_serializable(package="rnnzoo")
class MinLSTMCell(_MinCell):
    """f_t = sigmoid(W_f x_t + b_f); i_t = sigmoid(W_i x_t + b_i);
    h~_t = W_h x_t + b_h; with f' = f / (f + i), i' = i / (f + i):
    h_t = f'_t * h_{t-1} + i'_t * h~_t. Kernel columns: f, i, h~."""

    num_parts = 3

    def coefficients(self, projected):
        f_pre, i_pre, candidate = ops.split(projected, 3, axis=-1)
        f, i = ops.sigmoid(f_pre), ops.sigmoid(i_pre)
        total = f + i
        return f / total, (i / total) * candidate


@register_cell("min_gru", num_states=1)
def min_gru(units, dropout=0.0, recurrent_dropout=0.0, kernel_initializer="glorot_uniform", parallel_scan="auto",
        **options):
    """minGRU (Feng et al. 2024): input-only gates, parallel scan over time."""
    cell = MinGRUCell(units, dropout=dropout, kernel_initializer=kernel_initializer)
    return projected_layer("min_gru", cell, recurrent_dropout, parallel_scan=parallel_scan, **options)


@register_cell("min_lstm", num_states=1)
def min_lstm(units, dropout=0.0, recurrent_dropout=0.0, kernel_initializer="glorot_uniform", parallel_scan="auto",
        **options):
    """minLSTM (Feng et al. 2024): normalized input-only gates, parallel scan."""
    cell = MinLSTMCell(units, dropout=dropout, kernel_initializer=kernel_initializer)
    return projected_layer("min_lstm", cell, recurrent_dropout, parallel_scan=parallel_scan, **options)
