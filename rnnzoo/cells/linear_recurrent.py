"""Diagonal linear recurrences: the LRU and Griffin's RG-LRU.

`lru` is the Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting
Recurrent Neural Networks for Long Sequences"), a complex diagonal
recurrence (section 3, eqs. 3-6 and Algorithm 1):

    x_t = lambda * x_{t-1} + gamma * (B u_t),    y_t = Re(C x_t) + D u_t
    lambda = exp(-exp(nu_log) + i exp(theta_log)),   gamma = sqrt(1 - |lambda|^2)

with the stable exponential parameterization (|lambda| < 1 for any weights)
and the normalization gamma (`gamma_log` starts at log sqrt(1 - |lambda|^2)
and is then learned, as in the paper). `nu_log` and `theta_log` start so
that |lambda| is uniform on the ring [r_min, r_max] and its phase uniform on
[0, max_phase]. The complex state is carried as its real and imaginary parts
(two states of `units`). The paper's D is diagonal (its input and output
have the same width); here the output has `units` features whatever the
input's width, so D is a dense map of the input (`skip_kernel`).

`rg_lru` is the Real-Gated Linear Recurrent Unit of Griffin and Hawk (De et
al. 2024, "Griffin: Mixing Gated Linear Recurrences with Local Attention
for Efficient Language Models", section 2.4):

    r_t = sigmoid(W_a x_t + b_a),   i_t = sigmoid(W_x x_t + b_x)
    a_t = a^(c r_t),   a = sigmoid(Lambda),   c = 8
    h_t = a_t * h_{t-1} + sqrt(1 - a_t^2) * (i_t * u_t)

computed in log space (log a_t = -c * softplus(-Lambda) * r_t). Lambda
starts so that a^c is uniform on [0.9, 0.999], as in the paper. The paper's
layer gates its own input; here what is gated is `u_t = W_u x_t + b_u`, the
input's projection to `units` (in Griffin's recurrent block a linear layer
and a convolution come before the RG-LRU), and the gates read x_t. Both
recurrences are linear in the state, so RG-LRU trains with the parallel scan
on accelerators (`ProjectedRNN`); the LRU's complex coefficients step on.
"""

import math

import keras
from keras import ops

from rnnzoo.cells.projected import ProjectedCell, projected_layer
from rnnzoo.cells.registry import register_cell


def _uniform_then(transform):
    """An initializer: uniform on [0, 1), then `transform` (a NumPy-free op)."""
    base = keras.initializers.RandomUniform(0.0, 1.0)

    def initialize(shape, dtype=None):
        return transform(base(shape, dtype=dtype))

    return initialize


@keras.saving.register_keras_serializable(package="rnnzoo")
class LRUCell(ProjectedCell):
    """Args: units (the complex state's size and the output's); r_min,
    r_max: the ring |lambda| starts on (0 <= r_min < r_max < 1); max_phase:
    the largest starting phase; dropout, seed: see `ProjectedCell`.
    Weights: nu_log, theta_log, gamma_log `(units,)`; the input kernel
    `(input_dim, 2 * units)` (B's real, imaginary parts); the output kernel
    `(2 * units, units)` (C's real part, minus its imaginary part, so
    Re(C x) = [x_re, x_im] @ kernel); skip_kernel `(input_dim, units)` (D)."""

    def __init__(self, units, r_min=0.9, r_max=0.999, max_phase=2 * math.pi, **kwargs):
        super().__init__(units, **kwargs)
        if not 0.0 <= r_min < r_max < 1.0:
            raise ValueError(f"cell 'lru': need 0 <= `r_min` < `r_max` < 1, got r_min={r_min!r}, r_max={r_max!r}.")
        if not max_phase > 0:
            raise ValueError(f"cell 'lru': `max_phase` must be > 0, got {max_phase!r}.")
        self.r_min, self.r_max, self.max_phase = float(r_min), float(r_max), float(max_phase)
        self.state_size = [units, units]

    def build(self, input_shape):
        input_dim, units = input_shape[-1], self.units
        low, high = self.r_min ** 2, self.r_max ** 2
        self.nu_log = self.add_weight(shape=(units,), name="nu_log", initializer=_uniform_then(
            lambda u: ops.log(-0.5 * ops.log(u * (high - low) + low))))
        self.theta_log = self.add_weight(shape=(units,), name="theta_log", initializer=_uniform_then(
            lambda u: ops.log(ops.maximum(u * self.max_phase, 1e-6))))
        # gamma starts at sqrt(1 - |lambda|^2) of the starting lambda.
        modulus = ops.exp(-ops.exp(self.nu_log))
        self.gamma_log = self.add_weight(shape=(units,), name="gamma_log", initializer="zeros")
        self.gamma_log.assign(ops.log(ops.sqrt(1.0 - modulus ** 2)))
        # B and C: complex Gaussian, variance 1 / (2 fan-in) per part (Algorithm 1).
        self.kernel = self.add_weight(shape=(input_dim, 2 * units), name="kernel",
                                      initializer=keras.initializers.RandomNormal(stddev=(2 * input_dim) ** -0.5))
        self.output_kernel = self.add_weight(shape=(2 * units, units), name="output_kernel",
                                             initializer=keras.initializers.RandomNormal(stddev=units ** -0.5))
        self.skip_kernel = self.add_weight(shape=(input_dim, units), name="skip_kernel",
                                           initializer="glorot_uniform")

    def project(self, sequence, states):
        gamma = ops.exp(ops.concatenate([self.gamma_log, self.gamma_log]))
        return ops.concatenate([ops.matmul(sequence, self.kernel) * gamma,
                                ops.matmul(sequence, self.skip_kernel)], axis=-1)

    def step(self, projected, states):
        b_re, b_im, skip = ops.split(projected, 3, axis=-1)
        x_re, x_im = states
        modulus, phase = ops.exp(-ops.exp(self.nu_log)), ops.exp(self.theta_log)
        l_re, l_im = modulus * ops.cos(phase), modulus * ops.sin(phase)
        new_re = l_re * x_re - l_im * x_im + b_re
        new_im = l_re * x_im + l_im * x_re + b_im
        output = ops.matmul(ops.concatenate([new_re, new_im], axis=-1), self.output_kernel) + skip
        return output, [new_re, new_im]

    def get_config(self):
        return {**super().get_config(), "r_min": self.r_min, "r_max": self.r_max, "max_phase": self.max_phase}


RG_LRU_C = 8.0  # the paper's fixed scale of the gate's exponent


@keras.saving.register_keras_serializable(package="rnnzoo")
class RGLRUCell(ProjectedCell):
    """Args: units; dropout, seed: see `ProjectedCell`. Kernel
    `(input_dim, 3 * units)`, columns u, recurrence gate r, input gate i;
    bias `(3 * units,)`; Lambda `(units,)` ("recurrent_param")."""

    linear_recurrence = True

    def build(self, input_shape):
        units = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 3 * units), name="kernel",
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(3 * units,), name="bias", initializer="zeros")

        def a_power_c_uniform(u):  # a^c uniform on [0.9, 0.999] -> Lambda = logit(a)
            a = ops.exp(ops.log(0.9 + u * 0.099) / RG_LRU_C)
            return ops.log(a) - ops.log1p(-a)

        self.recurrent_param = self.add_weight(shape=(units,), name="recurrent_param",
                                               initializer=_uniform_then(a_power_c_uniform))

    def project(self, sequence, states):
        return ops.matmul(sequence, self.kernel) + self.bias

    def coefficients(self, projected):
        u, r_pre, i_pre = ops.split(projected, 3, axis=-1)
        log_a = -RG_LRU_C * ops.softplus(-self.recurrent_param) * ops.sigmoid(r_pre)
        a = ops.exp(log_a)
        # sqrt(1 - a^2) = sqrt(-expm1(2 log a)): exact as a_t -> 1.
        return a, ops.sqrt(-ops.expm1(2.0 * log_a)) * ops.sigmoid(i_pre) * u

    def step(self, projected, states):
        a, b = self.coefficients(projected)
        h = a * states[0] + b
        return h, [h]


@register_cell("lru", num_states=2)
def lru(units, dropout=0.0, recurrent_dropout=0.0, r_min=0.9, r_max=0.999, max_phase=2 * math.pi, **options):
    """LRU (Orvieto et al. 2023): complex diagonal linear recurrence, exponential parameterization."""
    cell = LRUCell(units, r_min=r_min, r_max=r_max, max_phase=max_phase, dropout=dropout)
    return projected_layer("lru", cell, recurrent_dropout, **options)


@register_cell("rg_lru", num_states=1)
def rg_lru(units, dropout=0.0, recurrent_dropout=0.0, parallel_scan="auto", **options):
    """RG-LRU (De et al. 2024, Griffin): real-gated diagonal linear recurrence."""
    cell = RGLRUCell(units, dropout=dropout)
    return projected_layer("rg_lru", cell, recurrent_dropout, parallel_scan=parallel_scan, **options)
