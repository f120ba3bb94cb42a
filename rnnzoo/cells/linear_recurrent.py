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

Their papers' blocks (`block=True`, see `ProjectedCell.run_step`):

- LRU (the paper's Figure 1 and Appendix D): layer pre-norm, the LRU, then
  GELU and a GLU (W_1 y * sigmoid(W_2 y)), and the residual.
- RG-LRU (Griffin's residual block, the paper's Figure 2): RMS pre-norm,
  the recurrent block, the residual, then RMS pre-norm, a GeLU-gated MLP of
  3 * units hidden and its residual. The recurrent block has two branches
  of `units` (the paper's D_RNN) from the normed input x:

      g_t = GeLU(W_g x_t + b_g)                                   (gate branch)
      u_t = causal depthwise conv over time (width `conv_width`) of W_u x_t + b_u
      r_t, i_t = sigmoid(W_a u_t + b_a), sigmoid(W_x u_t + b_x)    (the gates read u_t)
      h_t = a_t * h_{t-1} + sqrt(1 - a_t^2) * (i_t * u_t)
      out_t = W_o (g_t * h_t)

  The states are h and the convolution's pending sums (see
  `causal_conv_step`). The paper's gate weights are block-diagonal; here
  they are dense.
"""

import math

import keras
from keras import ops

from rnnzoo.cells.projected import ProjectedCell, block_conv_width, causal_conv_step, conv_taps, projected_layer
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
    Re(C x) = [x_re, x_im] @ kernel); skip_kernel `(input_dim, units)` (D).
    block: the paper's block; its GLU's kernel is `glu_kernel` `(units,
    2 * units)`."""

    block_name = "the LRU block"
    block_norm = "layer"

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
        if self.block:
            self.glu_kernel = self.add_weight(shape=(units, 2 * units), name="glu_kernel",
                                              initializer="glorot_uniform")
        self.build_block(input_dim)

    def mixer_output(self, output):
        """The block's GELU then GLU."""
        values, gates = ops.split(ops.matmul(ops.gelu(output), self.glu_kernel), 2, axis=-1)
        return values * ops.sigmoid(gates)

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
SERIES_BELOW = 0.1  # one_minus_exp's Taylor series serves |x| < this


def one_minus_exp(x):
    """1 - exp(x) for x <= 0, accurate near 0 in float32 with ops that every
    backend and TFLite's builtins have. TFLite computes expm1 as exp(x) - 1,
    which loses the digits as x -> 0 (5% off at x = -1e-6), where a trained
    RG-LRU's decays live (a_t -> 1); a TFLite language model then drifted
    9e-4 from Keras. For |x| < 0.1 the Taylor series to x^5 (relative error
    < 2e-8), beyond it 1 - exp(x) (< 7e-7)."""
    small = ops.maximum(x, -SERIES_BELOW)  # keeps the unused branch finite
    series = -small * (1.0 + small * (1 / 2 + small * (1 / 6 + small * (1 / 24 + small / 120))))
    return ops.where(x > -SERIES_BELOW, series, 1.0 - ops.exp(x))



@keras.saving.register_keras_serializable(package="rnnzoo")
class RGLRUCell(ProjectedCell):
    """Args: units; conv_width (>= 2; the recurrent block's convolution,
    used with `block`); dropout, seed, block: see `ProjectedCell`. Kernel
    `(input_dim, 3 * units)`, columns u, recurrence gate r, input gate i;
    bias `(3 * units,)`; Lambda `(units,)` ("recurrent_param"). With
    `block`, Griffin's recurrent block (see the module): kernel `(input_dim,
    2 * units)`, columns g and u, its bias; conv_kernel `(conv_width,
    units)`, conv_bias; gate_kernel `(units, 2 * units)`, columns r and i,
    gate_bias; Lambda; output_kernel `(units, units)`."""

    linear_recurrence = True
    block_name = "Griffin's residual block"
    block_mlp = ("gelu", 3)

    def __init__(self, units, conv_width=4, **kwargs):
        super().__init__(units, **kwargs)
        if isinstance(conv_width, bool) or not isinstance(conv_width, int) or conv_width < 2:
            raise ValueError(f"cell 'rg_lru': `conv_width` must be an integer >= 2, got {conv_width!r}.")
        self.conv_width = conv_width
        if self.block:
            self.state_size = [units, (conv_width - 1) * units]  # h, the convolution's pending sums

    def build(self, input_shape):
        units = self.units
        if self.block:
            self.build_recurrent_block(input_shape[-1])
            return
        self.kernel = self.add_weight(shape=(input_shape[-1], 3 * units), name="kernel",
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(3 * units,), name="bias", initializer="zeros")
        self.build_recurrent_param()

    def build_recurrent_block(self, input_dim):
        units, width = self.units, self.conv_width
        self.kernel = self.add_weight(shape=(input_dim, 2 * units), name="kernel", initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(2 * units,), name="bias", initializer="zeros")
        self.conv_kernel = self.add_weight(shape=(width, units), name="conv_kernel",
                                           initializer=keras.initializers.RandomUniform(-width ** -0.5,
                                                                                        width ** -0.5))
        self.conv_bias = self.add_weight(shape=(units,), name="conv_bias", initializer="zeros")
        self.gate_kernel = self.add_weight(shape=(units, 2 * units), name="gate_kernel",
                                           initializer="glorot_uniform")
        self.gate_bias = self.add_weight(shape=(2 * units,), name="gate_bias", initializer="zeros")
        self.build_recurrent_param()
        self.output_kernel = self.add_weight(shape=(units, units), name="output_kernel",
                                             initializer="glorot_uniform")
        self.build_block(input_dim)

    def build_recurrent_param(self):
        units = self.units

        def a_power_c_uniform(u):  # a^c uniform on [0.9, 0.999] -> Lambda = logit(a)
            a = ops.exp(ops.log(0.9 + u * 0.099) / RG_LRU_C)
            return ops.log(a) - ops.log1p(-a)

        self.recurrent_param = self.add_weight(shape=(units,), name="recurrent_param",
                                               initializer=_uniform_then(a_power_c_uniform))

    def project(self, sequence, states):
        projected = ops.matmul(sequence, self.kernel) + self.bias
        if not self.block:
            return projected
        # The gate branch as it is; u times each kernel position of the convolution.
        gate, u = projected[..., :self.units], projected[..., self.units:]
        return ops.concatenate([gate, conv_taps(u, self.conv_kernel)], axis=-1)

    def coefficients(self, projected):
        u, r_pre, i_pre = ops.split(projected, 3, axis=-1)
        log_a = -RG_LRU_C * ops.softplus(-self.recurrent_param) * ops.sigmoid(r_pre)
        a = ops.exp(log_a)
        # sqrt(1 - a^2) from log a: exact as a_t -> 1.
        return a, ops.sqrt(one_minus_exp(2.0 * log_a)) * ops.sigmoid(i_pre) * u

    def step(self, projected, states):
        if self.block:
            return self.recurrent_block_step(projected, states)
        a, b = self.coefficients(projected)
        h = a * states[0] + b
        return h, [h]

    def recurrent_block_step(self, projected, states):
        h, pending = states
        gate, taps = projected[:, :self.units], projected[:, self.units:]
        u, pending = causal_conv_step(taps, pending, self.units)
        u = u + self.conv_bias
        a, b = self.coefficients(ops.concatenate([u, ops.matmul(u, self.gate_kernel) + self.gate_bias], axis=-1))
        h = a * h + b
        return ops.matmul(ops.gelu(gate) * h, self.output_kernel), [h, pending]

    def get_config(self):
        return {**super().get_config(), "conv_width": self.conv_width}


@register_cell("lru", num_states=2)
def lru(units, dropout=0.0, recurrent_dropout=0.0, r_min=0.9, r_max=0.999, max_phase=2 * math.pi, block=False,
        **options):
    """LRU (Orvieto et al. 2023): complex diagonal linear recurrence, exponential parameterization."""
    cell = LRUCell(units, r_min=r_min, r_max=r_max, max_phase=max_phase, dropout=dropout, block=block)
    return projected_layer("lru", cell, recurrent_dropout, **options)


@register_cell("rg_lru", num_states=1)
def rg_lru(units, dropout=0.0, recurrent_dropout=0.0, parallel_scan="auto", block=False, conv_width=None, **options):
    """RG-LRU (De et al. 2024, Griffin): real-gated diagonal linear recurrence."""
    cell = RGLRUCell(units, dropout=dropout, block=block, conv_width=block_conv_width("rg_lru", block, conv_width))
    return projected_layer("rg_lru", cell, recurrent_dropout, parallel_scan=parallel_scan, **options)
