"""Mamba-2's selective state-space layer (Dao and Gu 2024, "Transformers are
SSMs: Generalized Models and Efficient Algorithms Through Structured State
Space Duality", the SSD layer and the Mamba-2 block, section 7 and Figure 6).

The whole mixer is the cell, so `num_layers` stacks Mamba-2 blocks' mixers:

    [z, x, B, C, dt] = W_in RMSNorm(u_t)              (x: expand * units = heads * head_dim; the block's pre-norm)
    [x, B, C] = SiLU(causal depthwise conv over time, width `conv_width`)
    dt = softplus(dt + dt_bias),   A = -exp(A_log)      (one scalar per head)
    S_t = exp(dt A) S_{t-1} + dt x_t B_t^T              (per head: head_dim x state_dim)
    y_t = S_t C_t + D x_t
    out_t = W_out RMSNorm(y_t * SiLU(z_t))

B and C are shared by the heads (one group). The state is S, flattened
(head, head_dim, state_dim), and the convolution's pending sums (see
`causal_conv_step`), so a sequence fed in pieces gives what it gives whole.
"""

import math

import keras
from keras import ops

from rnnzoo.cells.projected import (ProjectedCell, causal_conv_chunk, causal_conv_step, conv_taps, projected_layer,
                                    rms_norm)
from rnnzoo.cells.registry import register_cell


@keras.saving.register_keras_serializable(package="rnnzoo")
class Mamba2Cell(ProjectedCell):
    """Args: units (the input's and output's width in a stack; the output
    is `units` wide); heads; state_dim (N); expand (inner width = expand *
    units, split over the heads); conv_width (>= 2); dropout, seed: see
    `ProjectedCell`; block: the Mamba-2 block, the mixer (which holds
    its pre-norm) plus the residual; the paper's models have no MLP.
    A_log starts at log of uniform [1, 16], dt_bias so
    that softplus(dt_bias) is log-uniform on [0.001, 0.1] (the paper's
    code's defaults); D at 1. Its chunked form (`chunk`, 64 steps at once)
    runs where `ProjectedRNN` takes the parallel form."""

    chunked_form = True
    block_name = "the Mamba-2 block"
    normalizes_input = True

    def __init__(self, units, heads=4, state_dim=16, expand=2, conv_width=4, **kwargs):
        super().__init__(units, **kwargs)
        for argument, value, minimum in (("heads", heads, 1), ("state_dim", state_dim, 1), ("expand", expand, 1),
                                         ("conv_width", conv_width, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"cell 'mamba2': `{argument}` must be an integer >= {minimum}, got {value!r}.")
        if (expand * units) % heads:
            raise ValueError(f"cell 'mamba2': `heads` ({heads}) must divide expand * units ({expand * units}).")
        self.heads, self.state_dim, self.expand, self.conv_width = heads, state_dim, expand, conv_width
        self.inner = expand * units
        self.conv_channels = self.inner + 2 * state_dim
        self.state_size = [self.inner * state_dim, (conv_width - 1) * self.conv_channels]

    def build(self, input_shape):
        heads, inner = self.heads, self.inner
        self.in_kernel = self.add_weight(shape=(input_shape[-1], inner + self.conv_channels + heads),
                                         name="in_kernel", initializer="glorot_uniform")
        self.conv_kernel = self.add_weight(shape=(self.conv_width, self.conv_channels), name="conv_kernel",
                                           initializer=keras.initializers.RandomUniform(
                                               -self.conv_width ** -0.5, self.conv_width ** -0.5))
        self.conv_bias = self.add_weight(shape=(self.conv_channels,), name="conv_bias", initializer="zeros")
        uniform = keras.initializers.RandomUniform(0.0, 1.0)

        def dt_bias(shape, dtype=None):  # softplus^-1 of a log-uniform dt
            dt = ops.exp(uniform(shape, dtype) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
            return dt + ops.log(-ops.expm1(-dt))

        self.dt_bias = self.add_weight(shape=(heads,), name="dt_bias", initializer=dt_bias)
        self.A_log = self.add_weight(shape=(heads,), name="A_log",
                                     initializer=lambda shape, dtype=None: ops.log(1.0 + 15.0 * uniform(shape, dtype)))
        self.D = self.add_weight(shape=(heads,), name="D", initializer="ones")
        self.norm_scale = self.add_weight(shape=(inner,), name="norm_scale", initializer="ones")
        self.out_kernel = self.add_weight(shape=(inner, self.units), name="out_kernel", initializer="glorot_uniform")
        self.input_scale = self.add_weight(shape=(input_shape[-1],), name="input_scale", initializer="ones")
        self.build_block(input_shape[-1])

    def project(self, sequence, states):
        """z and dt as they are; the convolution's channels (x, B, C) times
        each kernel position: `(..., inner + heads + window * channels)`."""
        projected = ops.matmul(rms_norm(sequence, self.input_scale), self.in_kernel)
        z, xbc, dt = (projected[..., :self.inner], projected[..., self.inner:self.inner + self.conv_channels],
                      projected[..., self.inner + self.conv_channels:])
        taps = conv_taps(xbc, self.conv_kernel)
        return ops.concatenate([z, dt, taps], axis=-1)

    def step(self, projected, states):
        heads, inner, size = self.heads, self.inner, self.inner // self.heads
        memory, pending = states
        z, dt, taps = projected[:, :inner], projected[:, inner:inner + heads], projected[:, inner + heads:]
        xbc, pending = causal_conv_step(taps, pending, self.conv_channels)
        xbc = ops.silu(xbc + self.conv_bias)
        x, b, c = xbc[:, :inner], xbc[:, inner:inner + self.state_dim], xbc[:, inner + self.state_dim:]
        dt = ops.softplus(dt + self.dt_bias)  # (batch, heads)
        decay = ops.exp(-dt * ops.exp(self.A_log))
        x = ops.reshape(x, (-1, heads, size))
        memory = (decay[:, :, None, None] * ops.reshape(memory, (-1, heads, size, self.state_dim))
                  + (dt[:, :, None] * x)[..., None] * b[:, None, None, :])
        y = ops.einsum("bhpn,bn->bhp", memory, c) + self.D[:, None] * x
        y = rms_norm(ops.reshape(y, (-1, inner)) * ops.silu(z), self.norm_scale)
        return ops.matmul(y, self.out_kernel), [ops.reshape(memory, (-1, inner * self.state_dim)), pending]

    def chunk(self, projected, real, states):
        """The chunked form (SSD, the paper's section 6, within a chunk; the
        states carried between chunks). With A_t the summed log decays up
        to t: y_t = sum_{s <= t} exp(A_t - A_s) (C_t . B_s) dt_s x_s +
        exp(A_t) S_0 C_t + D x_t. The convolution runs over the chunk at
        once (`causal_conv_chunk`). Masked steps (dt = 0) keep the states;
        each row's real steps are taken to be contiguous (right padding,
        read either way)."""
        heads, inner, n, channels = self.heads, self.inner, self.state_dim, self.conv_channels
        size, window, steps = inner // heads, self.conv_width, projected.shape[1]
        memory, pending = states
        z, dt, taps = projected[..., :inner], projected[..., inner:inner + heads], projected[..., inner + heads:]
        keep = real > 0.5  # (batch, steps)
        conv, pending = causal_conv_chunk(ops.reshape(taps, (-1, steps, window, channels)), keep, pending)
        xbc = ops.silu(conv + self.conv_bias)
        x, b, c = xbc[..., :inner], xbc[..., inner:inner + n], xbc[..., inner + n:]
        # SSD over the chunk, per head.
        dt = ops.where(keep[..., None], ops.softplus(dt + self.dt_bias), 0.0)  # (batch, steps, heads)
        log_decay = ops.transpose(-dt * ops.exp(self.A_log), (0, 2, 1))  # (batch, heads, steps)
        cumulative = ops.cumsum(log_decay, axis=-1)
        earlier = ops.arange(steps)[None, :] <= ops.arange(steps)[:, None]
        gaps = ops.where(earlier, cumulative[..., :, None] - cumulative[..., None, :], -1e30)
        weights = ops.exp(gaps) * ops.einsum("btn,bsn->bts", c, b)[:, None]  # (batch, heads, t, s)
        x = ops.reshape(x, (-1, steps, heads, size))
        memory = ops.reshape(memory, (-1, heads, size, n))
        scaled = x * dt[..., None]  # dt_s x_s
        y = (ops.einsum("bhts,bshp->bthp", weights, scaled)
             + ops.exp(ops.transpose(cumulative, (0, 2, 1)))[..., None] * ops.einsum("bhpn,btn->bthp", memory, c)
             + self.D[:, None] * x)
        y = rms_norm(ops.reshape(y, (-1, steps, inner)) * ops.silu(z), self.norm_scale)
        to_end = ops.exp(cumulative[..., -1:] - cumulative)  # exp(A_L - A_s): (batch, heads, s)
        memory = (ops.exp(cumulative[..., -1])[..., None, None] * memory
                  + ops.einsum("bhs,bshp,bsn->bhpn", to_end, scaled, b))
        return ops.matmul(y, self.out_kernel), [ops.reshape(memory, (-1, inner * n)), pending]

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "state_dim": self.state_dim, "expand": self.expand,
                "conv_width": self.conv_width}


@register_cell("mamba2", num_states=2)
def mamba2(units, dropout=0.0, recurrent_dropout=0.0, heads=4, state_dim=16, expand=2, conv_width=4,
           parallel_scan="auto", block=False, **options):
    """Mamba-2 (Dao and Gu 2024): selective SSM with a scalar decay per head, causal conv and gating."""
    cell = Mamba2Cell(units, heads=heads, state_dim=state_dim, expand=expand, conv_width=conv_width, dropout=dropout,
                      block=block)
    return projected_layer("mamba2", cell, recurrent_dropout, parallel_scan=parallel_scan, **options)
