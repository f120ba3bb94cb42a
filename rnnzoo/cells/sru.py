"""SRU (Lei et al. 2018, "Simple Recurrent Units for Highly Parallelizable
Recurrence", equations 3-6):

    f_t = sigmoid(W_f x_t + v_f * c_{t-1} + b_f)
    c_t = f_t * c_{t-1} + (1 - f_t) * (W x_t)
    r_t = sigmoid(W_r x_t + v_r * c_{t-1} + b_r)
    h_t = r_t * c_t + (1 - r_t) * x'_t

x'_t is x_t itself when the input has `units` features, else a learned
projection W' x_t (the paper's remedy). Every matrix product reads only the
input, so all of them run for the whole sequence at once; the step is
elementwise.
"""

import keras
from keras import ops

from rnnzoo.cells.projected import ProjectedCell, projected_layer
from rnnzoo.cells.registry import register_cell


@keras.saving.register_keras_serializable(package="rnnzoo")
class SRUCell(ProjectedCell):
    """Kernel columns: W, W_f, W_r, then W' when the input size differs from
    `units`. State: c. Output: h."""

    def build(self, input_shape):
        self.input_dim = input_shape[-1]
        self.project_skip = self.input_dim != self.units
        parts = 4 if self.project_skip else 3
        self.kernel = self.add_weight(shape=(self.input_dim, parts * self.units), name="kernel",
                                      initializer="glorot_uniform")
        self.vector_f = self.add_weight(shape=(self.units,), name="vector_f", initializer="zeros")
        self.vector_r = self.add_weight(shape=(self.units,), name="vector_r", initializer="zeros")
        self.bias = self.add_weight(shape=(2 * self.units,), name="bias", initializer="zeros")

    def project(self, sequence, states):
        projected = ops.matmul(sequence, self.kernel)
        return projected if self.project_skip else ops.concatenate([projected, sequence], axis=-1)

    def step(self, projected, states):
        candidate, f_pre, r_pre, skip = ops.split(projected, 4, axis=-1)
        bias_f, bias_r = ops.split(self.bias, 2)
        c_prev = states[0]
        f = ops.sigmoid(f_pre + self.vector_f * c_prev + bias_f)
        r = ops.sigmoid(r_pre + self.vector_r * c_prev + bias_r)
        c = f * c_prev + (1.0 - f) * candidate
        h = r * c + (1.0 - r) * skip
        return h, [c]


@register_cell("sru", num_states=1)
def sru(units, dropout=0.0, recurrent_dropout=0.0, **options):
    """SRU (Lei et al. 2018): matrix products over all steps at once, elementwise recurrence."""
    return projected_layer("sru", SRUCell(units, dropout=dropout), recurrent_dropout, **options)
