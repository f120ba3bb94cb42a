"""Gated DeltaNet (Yang, Kautz and Hatamizadeh 2024, "Gated Delta Networks:
Improving Mamba2 with Delta Rule", eq. 10 and section 3.3's block).

A matrix memory per head, written by the delta rule (it replaces what the
memory holds for the key instead of adding to it) and decayed by a
Mamba-2-style gate:

    q, k, v = SiLU(causal depthwise conv over time of W_q x, W_k x, W_v x);  q, k L2-normalized per head,
              q / sqrt(d)
    alpha_t = exp(-exp(A_log) * softplus(W_a x + dt_bias)),   beta_t = sigmoid(W_b x)   (per head)
    S_t = alpha_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T
    o_t = S_t q_t,   out_t = W_out (RMSNorm(o_t) * SiLU(W_g x))

The input is RMS-normalized first (the block's pre-norm; without it, q, k
and v read a vanishing input in a stack and the second layer's outputs
start near 1e-6). The short convolution (width `conv_width`, 4 in the paper) lets a key meet
the token after it, which recall needs. The states are S, flattened (head,
value index, key index), and the convolution's pending sums (see
`causal_conv_step`).
"""

import math

import keras
from keras import ops

from rnnzoo.cells.projected import (ProjectedCell, causal_conv_chunk, causal_conv_step, conv_taps, projected_layer,
                                    rms_norm)
from rnnzoo.cells.registry import register_cell


def _l2_normalize(x):
    # tf.math.l2_normalize's form: TFLite's converter fuses it into its L2_NORMALIZATION op, which uses this
    # epsilon; another epsilon made the TFLite model differ from Keras by 2e-4.
    return x * ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-12))


@keras.saving.register_keras_serializable(package="rnnzoo")
class GatedDeltaNetCell(ProjectedCell):
    """Args: units (also the width of q, k, v, split over the heads); heads
    (dividing units); conv_width (>= 2); dropout, seed: see `ProjectedCell`.
    Kernel `(input_dim, 4 * units + 2 * heads)`, columns q, k, v, output gate
    g, then the decay gates a and the writing strengths b (one per head);
    conv_kernel `(conv_width, 3 * units)`, depthwise over q, k, v. Its
    chunked form (`chunk`, 64 steps at once) runs where `ProjectedRNN` takes
    the parallel form. block: the paper's block (section 3.3, as Llama's):
    the mixer (which holds its pre-norm) and its residual, then an RMS
    pre-norm, a SwiGLU MLP of 8/3 * units hidden and its residual."""

    chunked_form = True
    block_name = "the Gated DeltaNet block"
    normalizes_input = True
    block_mlp = ("silu", 8 / 3)

    def __init__(self, units, heads=4, conv_width=4, **kwargs):
        super().__init__(units, **kwargs)
        if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1 or units % heads:
            raise ValueError(f"cell 'gated_deltanet': `heads` must be a positive integer dividing `units` ({units}), "
                             f"got {heads!r}.")
        if isinstance(conv_width, bool) or not isinstance(conv_width, int) or conv_width < 2:
            raise ValueError(f"cell 'gated_deltanet': `conv_width` must be an integer >= 2, got {conv_width!r}.")
        self.heads, self.conv_width = heads, conv_width
        self.state_size = [units * (units // heads), (conv_width - 1) * 3 * units]

    def build(self, input_shape):
        units, heads = self.units, self.heads
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * units + 2 * heads), name="kernel",
                                      initializer="glorot_uniform")
        bound = self.conv_width ** -0.5
        self.conv_kernel = self.add_weight(shape=(self.conv_width, 3 * units), name="conv_kernel",
                                           initializer=keras.initializers.RandomUniform(-bound, bound))
        uniform = keras.initializers.RandomUniform(0.0, 1.0)

        def dt_bias(shape, dtype=None):  # softplus^-1 of a log-uniform dt, as Mamba-2
            dt = ops.exp(uniform(shape, dtype) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
            return dt + ops.log(-ops.expm1(-dt))

        self.dt_bias = self.add_weight(shape=(heads,), name="dt_bias", initializer=dt_bias)
        self.A_log = self.add_weight(shape=(heads,), name="A_log",
                                     initializer=lambda shape, dtype=None: ops.log(1.0 + 15.0 * uniform(shape, dtype)))
        self.norm_scale = self.add_weight(shape=(units // heads,), name="norm_scale", initializer="ones")
        self.out_kernel = self.add_weight(shape=(units, units), name="out_kernel", initializer="glorot_uniform")
        self.input_scale = self.add_weight(shape=(input_shape[-1],), name="input_scale", initializer="ones")
        self.build_block(input_shape[-1])

    def project(self, sequence, states):
        """The gates as they are, then q, k, v times each conv kernel
        position: `(..., units + 2 * heads + conv_width * 3 * units)`."""
        projected = ops.matmul(rms_norm(sequence, self.input_scale), self.kernel)
        qkv = projected[..., :3 * self.units]
        taps = conv_taps(qkv, self.conv_kernel)
        return ops.concatenate([projected[..., 3 * self.units:], taps], axis=-1)

    def step(self, projected, states):
        units, heads = self.units, self.heads
        size = units // heads
        memory, pending = states
        gate = projected[:, :units]
        a, b = projected[:, units:units + heads], projected[:, units + heads:units + 2 * heads]
        qkv, pending = causal_conv_step(projected[:, units + 2 * heads:], pending, 3 * units)
        q, k, v = (ops.reshape(ops.silu(qkv[:, j * units:(j + 1) * units]), (-1, heads, size)) for j in range(3))
        q, k = _l2_normalize(q) / size ** 0.5, _l2_normalize(k)
        alpha = ops.exp(-ops.exp(self.A_log) * ops.softplus(a + self.dt_bias))[:, :, None, None]
        beta = ops.sigmoid(b)[:, :, None]
        memory = alpha * ops.reshape(memory, (-1, heads, size, size))  # alpha S
        # alpha S (I - beta k k^T) + beta v k^T = alpha S + beta (v - alpha S k) k^T: the value the decayed
        # memory holds for k moves toward v.
        error = v - ops.einsum("bhvk,bhk->bhv", memory, k)
        memory = memory + (beta * error)[..., None] * k[:, :, None, :]
        output = rms_norm(ops.einsum("bhvk,bhk->bhv", memory, q), self.norm_scale)
        output = ops.reshape(output, (-1, units)) * ops.silu(gate)
        return ops.matmul(output, self.out_kernel), [ops.reshape(memory, (-1, heads * size * size)), pending]

    def chunk(self, projected, real, states):
        """The chunked form (the paper's WY/UT form of the gated delta rule,
        within a chunk; the states carried between chunks). With G_t the
        summed log decays up to t, the chunk's memory is S_t = exp(G_t) S_0
        + sum_{s <= t} exp(G_t - G_s) u_s k_s^T, whose pseudo-values u solve
        the lower-triangular system (I + A) U = beta (V - exp(G) K S_0^T),
        A_ts = beta_t exp(G_t - G_s) k_t . k_s for s < t (so each u_t holds
        what the write at t adds after the delta rule removed the old value).
        Masked steps (alpha = 1, beta = 0) keep the states; each row's real
        steps are taken to be contiguous (right padding, read either way)."""
        units, heads, window = self.units, self.heads, self.conv_width
        size, steps = units // heads, projected.shape[1]
        memory, pending = states
        memory = ops.reshape(memory, (-1, heads, size, size))
        keep = real > 0.5
        gate = projected[..., :units]
        a, b = projected[..., units:units + heads], projected[..., units + heads:units + 2 * heads]
        taps = ops.reshape(projected[..., units + 2 * heads:], (-1, steps, window, 3 * units))
        qkv, pending = causal_conv_chunk(taps, keep, pending)

        def per_head(t):  # (batch, steps, units) -> (batch, heads, steps, size)
            return ops.transpose(ops.reshape(ops.silu(t), (-1, steps, heads, size)), (0, 2, 1, 3))

        q, k, v = (per_head(qkv[..., j * units:(j + 1) * units]) for j in range(3))
        q, k = _l2_normalize(q) / size ** 0.5, _l2_normalize(k)
        held = keep[:, None, :]  # (batch, 1, steps)
        log_alpha = ops.where(held, -ops.exp(self.A_log)[:, None] * ops.transpose(
            ops.softplus(a + self.dt_bias), (0, 2, 1)), 0.0)  # (batch, heads, steps)
        beta = ops.where(held, ops.transpose(ops.sigmoid(b), (0, 2, 1)), 0.0)
        cumulative = ops.cumsum(log_alpha, axis=-1)
        index = ops.arange(steps)
        gaps = cumulative[..., :, None] - cumulative[..., None, :]
        before = ops.exp(ops.where(index[None, :] < index[:, None], gaps, -1e30))  # exp(G_t - G_s), s < t
        up_to = ops.exp(ops.where(index[None, :] <= index[:, None], gaps, -1e30))  # s <= t
        system = ops.eye(steps) + beta[..., None] * before * ops.einsum("bhtd,bhsd->bhts", k, k)
        decayed = ops.exp(cumulative)[..., None]  # exp(G_t)
        right = beta[..., None] * (v - decayed * ops.einsum("bhvk,bhtk->bhtv", memory, k))
        pseudo = ops.solve_triangular(system, right, lower=True)  # u: (batch, heads, steps, size)
        output = (decayed * ops.einsum("bhvk,bhtk->bhtv", memory, q)
                  + ops.einsum("bhts,bhsv->bhtv", up_to * ops.einsum("bhtd,bhsd->bhts", q, k), pseudo))
        to_end = ops.exp(cumulative[..., -1:] - cumulative)  # exp(G_L - G_s)
        memory = (ops.exp(cumulative[..., -1])[..., None, None] * memory
                  + ops.einsum("bhs,bhsv,bhsk->bhvk", to_end, pseudo, k))
        output = rms_norm(ops.transpose(output, (0, 2, 1, 3)), self.norm_scale)  # per head
        output = ops.reshape(output, (-1, steps, units)) * ops.silu(gate)
        return ops.matmul(output, self.out_kernel), [ops.reshape(memory, (-1, heads * size * size)), pending]

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "conv_width": self.conv_width}


@register_cell("gated_deltanet", num_states=2)
def gated_deltanet(units, dropout=0.0, recurrent_dropout=0.0, heads=4, conv_width=4, parallel_scan="auto",
                   block=False, **options):
    """Gated DeltaNet (Yang et al. 2024): the gated delta rule on a matrix memory per head, short conv."""
    cell = GatedDeltaNetCell(units, heads=heads, conv_width=conv_width, dropout=dropout, block=block)
    return projected_layer("gated_deltanet", cell, recurrent_dropout, parallel_scan=parallel_scan, **options)
