"""IndRNN (Li et al. 2018, "Independently Recurrent Neural Network"):
h_t = act(W x_t + u * h_{t-1} + b), with a recurrent *vector* u, so each
unit sees only its own past and the step is elementwise."""

import keras
from keras import ops

from rnnzoo.cells.projected import ProjectedCell, projected_layer
from rnnzoo.cells.registry import register_cell

ACTIVATIONS = ("relu", "tanh")


@keras.saving.register_keras_serializable(package="rnnzoo")
class IndRNNCell(ProjectedCell):
    """Args: units; activation "relu" (the paper's) or "tanh";
    recurrent_max: when set, u is clipped to [-recurrent_max,
    recurrent_max] after each update (the paper bounds |u| by 2^(1/T) for
    ReLU over T steps); dropout, seed: see `ProjectedCell`. u starts
    uniform in [0, 1], as in the paper."""

    def __init__(self, units, activation="relu", recurrent_max=None, **kwargs):
        super().__init__(units, **kwargs)
        if activation not in ACTIVATIONS:
            raise ValueError(f"cell 'indrnn': `activation` must be one of {ACTIVATIONS}, got {activation!r}.")
        if recurrent_max is not None and not recurrent_max > 0:
            raise ValueError(f"cell 'indrnn': `recurrent_max` must be > 0 or None, got {recurrent_max!r}.")
        self.activation = activation
        self.recurrent_max = recurrent_max

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel",
                                      initializer="glorot_uniform")
        constraint = None if self.recurrent_max is None else _Clip(self.recurrent_max)
        self.recurrent_weight = self.add_weight(shape=(self.units,), name="recurrent_weight",
                                                initializer=keras.initializers.RandomUniform(0.0, 1.0),
                                                constraint=constraint)
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros")

    def project(self, sequence, states):
        return ops.matmul(sequence, self.kernel) + self.bias

    def step(self, projected, states):
        pre = projected + self.recurrent_weight * states[0]
        h = ops.relu(pre) if self.activation == "relu" else ops.tanh(pre)
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "activation": self.activation, "recurrent_max": self.recurrent_max}


@keras.saving.register_keras_serializable(package="rnnzoo")
class _Clip(keras.constraints.Constraint):
    def __init__(self, limit):
        self.limit = limit

    def __call__(self, w):
        return ops.clip(w, -self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


@register_cell("indrnn", num_states=1)
def indrnn(units, dropout=0.0, recurrent_dropout=0.0, activation="relu", recurrent_max=None, **options):
    """IndRNN (Li et al. 2018): elementwise recurrence h_t = act(Wx_t + u*h_{t-1} + b)."""
    cell = IndRNNCell(units, activation=activation, recurrent_max=recurrent_max, dropout=dropout)
    return projected_layer("indrnn", cell, recurrent_dropout, **options)
