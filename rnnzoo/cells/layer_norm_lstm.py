"""Layer-normalized LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization",
section 3.1 and appendix):

    (i, f, g, o) = LN(W_x x_t; a_x) + LN(W_h h_{t-1}; a_h) + b
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    h_t = sigmoid(o) * tanh(LN(c_t; a_c, b_c))

LN normalizes the whole summed-input vector (all four gates together) to
zero mean and unit variance, then scales by the gain `a`; the shift of the
two gate normalizations is the bias b. The input term is normalized per
step, so it is computed for the whole sequence at once.
"""

import keras
from keras import ops

from rnnzoo.cells.projected import ProjectedCell, layer_norm, projected_layer
from rnnzoo.cells.registry import register_cell


@keras.saving.register_keras_serializable(package="rnnzoo")
class LayerNormLSTMCell(ProjectedCell):
    """Gate order i, f, g, o (Keras'); the forget bias starts at 1 (Keras'
    `unit_forget_bias`). States: h, c."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.state_size = [units, units]

    def build(self, input_shape):
        units = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * units), name="kernel",
                                      initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(shape=(units, 4 * units), name="recurrent_kernel",
                                                initializer="orthogonal")
        self.bias = self.add_weight(shape=(4 * units,), name="bias", initializer=keras.initializers.Constant(
            [0.0] * units + [1.0] * units + [0.0] * 2 * units))
        self.input_gain = self.add_weight(shape=(4 * units,), name="input_gain", initializer="ones")
        self.recurrent_gain = self.add_weight(shape=(4 * units,), name="recurrent_gain", initializer="ones")
        self.cell_gain = self.add_weight(shape=(units,), name="cell_gain", initializer="ones")
        self.cell_shift = self.add_weight(shape=(units,), name="cell_shift", initializer="zeros")

    def project(self, sequence, states):
        return layer_norm(ops.matmul(sequence, self.kernel), self.input_gain) + self.bias

    def step(self, projected, states):
        h_prev, c_prev = states
        z = projected + layer_norm(ops.matmul(h_prev, self.recurrent_kernel), self.recurrent_gain)
        i, f, g, o = ops.split(z, 4, axis=-1)
        c = ops.sigmoid(f) * c_prev + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(layer_norm(c, self.cell_gain) + self.cell_shift)
        return h, [h, c]


@register_cell("layer_norm_lstm", num_states=2)
def layer_norm_lstm(units, dropout=0.0, recurrent_dropout=0.0, **options):
    """Layer-normalized LSTM (Ba et al. 2016): LN on both gate inputs and on c_t."""
    return projected_layer("layer_norm_lstm", LayerNormLSTMCell(units, dropout=dropout), recurrent_dropout,
                           **options)
