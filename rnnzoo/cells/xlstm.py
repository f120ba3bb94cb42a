"""xLSTM's two cells (Beck et al. 2024, "xLSTM: Extended Long Short-Term
Memory"), with exponential input gates and the stabilizer state.

`slstm`, scalar memory (section 2.2): per unit,

    z = tanh(W_z x + R_z h + b_z),   o = sigmoid(W_o x + R_o h + b_o)
    log i = W_i x + R_i h + b_i (exponential gate),   log f = log sigmoid(W_f x + R_f h + b_f)
    m_t = max(log f + m_{t-1}, log i),   i' = exp(log i - m_t),   f' = exp(log f + m_{t-1} - m_t)
    c_t = f' c_{t-1} + i' z,   n_t = f' n_{t-1} + i',   h_t = o * c_t / n_t

The recurrent matrix R is block-diagonal: `heads` blocks, each mixing only
its head's units. States: h, c, n, m.

`mlstm`, matrix memory (section 2.3): per head (d = units / heads),

    q = W_q x,  k = W_k x / sqrt(d),  v = W_v x,  o = sigmoid(W_o x + b_o)
    log i = w_i x + b_i,  log f = log sigmoid(w_f x + b_f)   (one scalar each per head)
    m_t = max(log f + m_{t-1}, log i);  i', f' as above
    C_t = f' C_{t-1} + i' v k^T,   n_t = f' n_{t-1} + i' k
    h~_t = (C_t q) / max(|n_t . q|, exp(-m_t)),   h_t = o * LN_head(h~_t)

with LN_head a layer norm over each head's units (the xLSTM mLSTM layer's
multi-head norm, with a learned scale), and the input RMS-normalized first
(the pre-norm of the xLSTM block): h~ is cubic in the input's scale (q, k
and v all read it), so without them a stack of mLSTM cells starts with
outputs near 1e-15 and does not train.

The stabilized C, n are exp(-m_t) times the paper's unstabilized ones, so the
output is the paper's h_t exactly. States: C `(heads * d * d)` flattened
row-major as (head, v index, k index), n `(heads * d)`, m `(heads)`.
mLSTM has no recurrent matrix: its gates read only the input, so a sequence's
projections are computed at once (`ProjectedCell`).

The forget gates are sigmoids in log space (the paper allows sigmoid or
exponential; the authors' kernels use the log-sigmoid).
"""

import keras
from keras import ops

from rnnzoo.cells.projected import (ProjectedCell, block_conv_width, causal_conv_chunk, causal_conv_step,
                                    conv_taps, layer_norm, projected_layer)
from rnnzoo.cells.registry import register_cell


def _check_heads(cell_name, units, heads):
    if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1 or units % heads:
        raise ValueError(f"cell {cell_name!r}: `heads` must be a positive integer dividing `units` ({units}), "
                         f"got {heads!r}.")
    return heads


def _log_sigmoid(x):
    return -ops.softplus(-x)


@keras.saving.register_keras_serializable(package="rnnzoo")
class SLSTMCell(ProjectedCell):
    """Args: units; heads (blocks of the recurrent matrix, dividing units);
    dropout, seed: see `ProjectedCell`. Kernel `(input_dim, 4 * units)`,
    columns z, i, f, o; recurrent_kernel `(heads, d, 4 * d)`, each head's
    columns z, i, f, o; bias `(4 * units,)`. block: xLSTM's sLSTM block
    (post up-projection, the paper's Figure 10): a layer pre-norm, the
    sLSTM, a norm per head (`head_scale`), the residual, then a layer
    pre-norm, a GeLU-gated MLP of 4/3 * units hidden and its residual. The
    paper's optional convolution before the input and forget gates is left
    out."""

    block_name = "xLSTM's sLSTM block"
    block_norm = "layer"
    block_mlp = ("gelu", 4 / 3)

    def __init__(self, units, heads=4, **kwargs):
        super().__init__(units, **kwargs)
        self.heads = _check_heads("slstm", units, heads)
        self.state_size = [units, units, units, units]  # h, c, n, m

    def build(self, input_shape):
        units, heads = self.units, self.heads
        size = units // heads
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * units), name="kernel",
                                      initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(shape=(heads, size, 4 * size), name="recurrent_kernel",
                                                initializer="orthogonal")
        self.bias = self.add_weight(shape=(4 * units,), name="bias", initializer="zeros")
        if self.block:
            self.head_scale = self.add_weight(shape=(units,), name="head_scale", initializer="ones")
        self.build_block(input_shape[-1])

    def mixer_output(self, output):
        """The block's norm per head (xLSTM's group norm)."""
        size = self.units // self.heads
        split = ops.reshape(output, (*ops.shape(output)[:-1], self.heads, size))
        scale = ops.reshape(self.head_scale, (self.heads, size))
        return ops.reshape(layer_norm(split, scale), ops.shape(output))

    def project(self, sequence, states):
        return ops.matmul(sequence, self.kernel) + self.bias

    def step(self, projected, states):
        h, c, n, m = states
        heads, size = self.heads, self.units // self.heads
        # Block-diagonal R h: each head's units through its own block, gates regrouped as z, i, f, o.
        recurrent = ops.einsum("bhd,hde->bhe", ops.reshape(h, (-1, heads, size)), self.recurrent_kernel)
        recurrent = ops.reshape(ops.transpose(ops.reshape(recurrent, (-1, heads, 4, size)), (0, 2, 1, 3)),
                                (-1, 4 * self.units))
        z_pre, log_i, f_pre, o_pre = ops.split(projected + recurrent, 4, axis=-1)
        log_f = _log_sigmoid(f_pre)
        m_new = ops.maximum(log_f + m, log_i)
        i_gate, f_gate = ops.exp(log_i - m_new), ops.exp(log_f + m - m_new)
        c_new = f_gate * c + i_gate * ops.tanh(z_pre)
        n_new = f_gate * n + i_gate
        h_new = ops.sigmoid(o_pre) * c_new / n_new
        return h_new, [h_new, c_new, n_new, m_new]

    def get_config(self):
        return {**super().get_config(), "heads": self.heads}


@keras.saving.register_keras_serializable(package="rnnzoo")
class MLSTMCell(ProjectedCell):
    """Args: units; heads (dividing the memory's width: units, or 2 * units
    in the block); conv_width (>= 2, the block's convolution); dropout,
    seed: see `ProjectedCell`. Kernel `(input_dim, 4 * units + 2 * heads)`,
    columns q, k, v, o (units each), then the input and forget gates (one
    per head); bias `(units + 2 * heads,)` for o and the gates; norm_scale
    `(units,)`; input_scale `(input_dim,)`, the input RMS norm's. The
    forget gates' bias starts at 3 (remember), the input gates' at 0. Its
    chunked form (`chunk`, 64 steps at once) runs where `ProjectedRNN` takes
    the parallel form.

    block: xLSTM's mLSTM block (pre up-projection, the paper's Figure 11):

        x = LayerNorm(input);   [a, b] = x W_up        (each of width w = 2 * units)
        c = SiLU(causal depthwise conv of a, width `conv_width`)
        q, k = c W_q, c W_k;   v = a W_v;   [log i, f~] = [q, k, v] W_gates + b_gates
        h~ = the mLSTM memory above (heads over w), normed per head
        out = input (or its projection) + ((h~ + skip * c) * SiLU(b)) W_down

    with weights up_kernel `(input_dim, 2 * w)`, v_kernel `(w, w)`,
    conv_kernel `(conv_width, w)`, conv_bias, qk_kernel `(w, 2 * w)`,
    gate_kernel `(3 * w, 2 * heads)`, gate_bias, norm_scale `(w,)`, skip
    `(w,)`, down_kernel `(w, units)`; the states gain the convolution's
    pending sums. The paper's q, k, v projections are block-diagonal; here
    they are dense."""

    chunked_form = True
    block_name = "xLSTM's mLSTM block"
    normalizes_input = True

    def __init__(self, units, heads=4, conv_width=4, **kwargs):
        super().__init__(units, **kwargs)
        self.width = 2 * units if self.block else units  # the memory's width: the block projects up by 2
        if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1 or self.width % heads:
            raise ValueError(f"cell 'mlstm': `heads` must be a positive integer dividing the memory's width "
                             f"({self.width}), got {heads!r}.")
        if isinstance(conv_width, bool) or not isinstance(conv_width, int) or conv_width < 2:
            raise ValueError(f"cell 'mlstm': `conv_width` must be an integer >= 2, got {conv_width!r}.")
        self.heads, self.conv_width = heads, conv_width
        size = self.width // heads
        self.state_size = [heads * size * size, self.width, heads]  # C, n, m
        if self.block:
            self.state_size.append((conv_width - 1) * self.width)  # the convolution's pending sums
            self.normalizes_input, self.block_norm = False, "layer"  # the block's layer norm replaces the RMS norm

    def build(self, input_shape):
        units, heads, input_dim = self.units, self.heads, input_shape[-1]
        if self.block:
            self.build_up_projection(input_dim)
            return
        self.kernel = self.add_weight(shape=(input_dim, 4 * units + 2 * heads), name="kernel",
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(units + 2 * heads,), name="bias", initializer="zeros")
        self.bias.assign(ops.concatenate([ops.zeros((units + heads,)), ops.full((heads,), 3.0)]))
        self.norm_scale = self.add_weight(shape=(units,), name="norm_scale", initializer="ones")
        self.input_scale = self.add_weight(shape=(input_dim,), name="input_scale", initializer="ones")

    def build_up_projection(self, input_dim):
        width, heads, window = self.width, self.heads, self.conv_width
        self.up_kernel = self.add_weight(shape=(input_dim, 2 * width), name="up_kernel", initializer="glorot_uniform")
        self.v_kernel = self.add_weight(shape=(width, width), name="v_kernel", initializer="glorot_uniform")
        self.conv_kernel = self.add_weight(shape=(window, width), name="conv_kernel",
                                           initializer=keras.initializers.RandomUniform(-window ** -0.5,
                                                                                        window ** -0.5))
        self.conv_bias = self.add_weight(shape=(width,), name="conv_bias", initializer="zeros")
        self.qk_kernel = self.add_weight(shape=(width, 2 * width), name="qk_kernel", initializer="glorot_uniform")
        self.gate_kernel = self.add_weight(shape=(3 * width, 2 * heads), name="gate_kernel", initializer="zeros")
        self.gate_bias = self.add_weight(shape=(2 * heads,), name="gate_bias", initializer="zeros")
        self.gate_bias.assign(ops.concatenate([ops.zeros((heads,)), ops.full((heads,), 3.0)]))
        self.norm_scale = self.add_weight(shape=(width,), name="norm_scale", initializer="ones")
        self.skip = self.add_weight(shape=(width,), name="skip", initializer="ones")
        self.down_kernel = self.add_weight(shape=(width, self.units), name="down_kernel",
                                           initializer="glorot_uniform")
        self.build_block(input_dim)

    def head_norm(self, hidden):
        """Layer norm over each head's units (last axis), then the scale."""
        return layer_norm(hidden, ops.reshape(self.norm_scale, (self.heads, self.width // self.heads)))

    def project(self, sequence, states):
        if self.block:  # the gate branch b, v (read before the convolution), a times each kernel position
            up = ops.matmul(sequence, self.up_kernel)
            a, b = up[..., :self.width], up[..., self.width:]
            return ops.concatenate([b, ops.matmul(a, self.v_kernel), conv_taps(a, self.conv_kernel)], axis=-1)
        units = self.units
        sequence = sequence * ops.rsqrt(ops.mean(ops.square(sequence), axis=-1, keepdims=True) + 1e-5)
        projected = ops.matmul(sequence * self.input_scale, self.kernel)
        return ops.concatenate([projected[..., :3 * units], projected[..., 3 * units:] + self.bias], axis=-1)

    def block_inputs(self, projected, conv):
        """The block's q, k, v, gates from the convolution's output: `(q, k,
        v, log_i, f_pre, c, b)`, over steps or one step alike."""
        width, heads = self.width, self.heads
        b, v = projected[..., :width], projected[..., width:2 * width]
        c = ops.silu(conv + self.conv_bias)
        qk = ops.matmul(c, self.qk_kernel)
        q, k = qk[..., :width], qk[..., width:]
        gates = ops.matmul(ops.concatenate([q, k, v], axis=-1), self.gate_kernel) + self.gate_bias
        return q, k, v, gates[..., :heads], gates[..., heads:], c, b

    def block_output(self, hidden, c, b):
        return ops.matmul((hidden + self.skip * c) * ops.silu(b), self.down_kernel)

    def step(self, projected, states):
        units, heads = self.units, self.heads
        if self.block:
            *states, pending = states
            conv, pending = causal_conv_step(projected[:, 2 * self.width:], pending, self.width)
            q, k, v, log_i, f_pre, c, b = self.block_inputs(projected, conv)
            hidden, states = self.memory_step(q, k, v, log_i, f_pre, states)
            return self.block_output(hidden, c, b), states + [pending]
        q, k, v, o_pre = (projected[:, j * units:(j + 1) * units] for j in range(4))
        log_i, f_pre = projected[:, 4 * units:4 * units + heads], projected[:, 4 * units + heads:]
        hidden, states = self.memory_step(q, k, v, log_i, f_pre, states)
        return ops.sigmoid(o_pre) * hidden, states

    def memory_step(self, q, k, v, log_i, f_pre, states):
        """One step of the memory: the normed h~ `(batch, width)` and the
        new C, n, m."""
        width, heads = self.width, self.heads
        size = width // heads
        memory, normalizer, m = states
        q, k, v = (ops.reshape(t, (-1, heads, size)) for t in (q, k, v))
        k = k / size ** 0.5
        log_f = _log_sigmoid(f_pre)
        m_new = ops.maximum(log_f + m, log_i)
        i_gate = ops.exp(log_i - m_new)[..., None]
        f_gate = ops.exp(log_f + m - m_new)[..., None]
        memory = (f_gate[..., None] * ops.reshape(memory, (-1, heads, size, size))
                  + i_gate[..., None] * v[..., :, None] * k[..., None, :])
        normalizer = f_gate * ops.reshape(normalizer, (-1, heads, size)) + i_gate * k
        numerator = ops.einsum("bhvk,bhk->bhv", memory, q)
        denominator = ops.maximum(ops.abs(ops.sum(normalizer * q, axis=-1)), ops.exp(-m_new))
        hidden = ops.reshape(self.head_norm(numerator / denominator[..., None]), (-1, width))
        return hidden, [ops.reshape(memory, (-1, heads * size * size)), ops.reshape(normalizer, (-1, width)), m_new]

    def chunk(self, projected, real, states):
        units, heads = self.units, self.heads
        if self.block:
            width, steps = self.width, projected.shape[1]
            *states, pending = states
            taps = ops.reshape(projected[..., 2 * width:], (-1, steps, self.conv_width, width))
            conv, pending = causal_conv_chunk(taps, real > 0.5, pending)
            q, k, v, log_i, f_pre, c, b = self.block_inputs(projected, conv)
            hidden, states = self.memory_chunk(q, k, v, log_i, f_pre, real, states)
            return self.block_output(hidden, c, b), states + [pending]
        q, k, v, o_pre = (projected[..., j * units:(j + 1) * units] for j in range(4))
        log_i, f_pre = projected[..., 4 * units:4 * units + heads], projected[..., 4 * units + heads:]
        hidden, states = self.memory_chunk(q, k, v, log_i, f_pre, real, states)
        return ops.sigmoid(o_pre) * hidden, states

    def memory_chunk(self, q, k, v, log_i, f_pre, real, states):
        """The chunkwise-parallel form (the paper's parallel form within a
        chunk, the states carried between chunks): the normed h~ `(batch,
        steps, width)` and the states after the chunk. With F_t the summed
        log forget gates up to t and m_0 the stabilizer before: D_ts = F_t -
        F_s + log i_s (s <= t) and m_t = max(m_0 + F_t, max_s D_ts), the step
        form's stabilizer unrolled, so the carried states equal the step
        form's."""
        width, heads = self.width, self.heads
        size = width // heads
        steps = q.shape[1]
        memory, normalizer, m = states
        memory = ops.reshape(memory, (-1, heads, size, size))
        normalizer = ops.reshape(normalizer, (-1, heads, size))

        def per_head(t):  # (batch, steps, width) -> (batch, heads, steps, size)
            return ops.transpose(ops.reshape(t, (-1, steps, heads, size)), (0, 2, 1, 3))

        q, k, v = per_head(q), per_head(k) / size ** 0.5, per_head(v)
        keep = real[:, None, :] > 0.5  # (batch, 1, steps): a masked step writes nothing and forgets nothing
        log_i = ops.where(keep, ops.transpose(log_i, (0, 2, 1)), -1e30)
        log_f = ops.where(keep, _log_sigmoid(ops.transpose(f_pre, (0, 2, 1))), 0.0)
        cumulative = ops.cumsum(log_f, axis=-1)  # F_t: (batch, heads, steps)
        earlier = ops.arange(steps)[None, :] <= ops.arange(steps)[:, None]
        gaps = cumulative[..., :, None] - cumulative[..., None, :] + log_i[..., None, :]  # D_ts
        gaps = ops.where(earlier, gaps, -1e30)
        carried = m[..., None] + cumulative  # m_0 + F_t
        m_t = ops.maximum(carried, ops.max(gaps, axis=-1))
        weights = ops.exp(gaps - m_t[..., None])  # (batch, heads, t, s)
        start = ops.exp(carried - m_t)  # what the carried state weighs at t
        scores = ops.einsum("bhtd,bhsd->bhts", q, k) * weights
        numerator = (ops.einsum("bhts,bhsd->bhtd", scores, v)
                     + start[..., None] * ops.einsum("bhvk,bhtk->bhtv", memory, q))
        dot = ops.sum(scores, axis=-1) + start * ops.einsum("bhk,bhtk->bht", normalizer, q)
        denominator = ops.maximum(ops.abs(dot), ops.exp(-m_t))
        hidden = self.head_norm(ops.transpose(numerator / denominator[..., None], (0, 2, 1, 3)))
        # The states after the chunk: its last step's row of the weights.
        last, decay = weights[..., -1, :], start[..., -1]  # exp(F_L - F_s + log i_s - m_L), exp(m_0 + F_L - m_L)
        memory = decay[..., None, None] * memory + ops.einsum("bhs,bhsv,bhsk->bhvk", last, v, k)
        normalizer = decay[..., None] * normalizer + ops.einsum("bhs,bhsk->bhk", last, k)
        return ops.reshape(hidden, (-1, steps, width)), [ops.reshape(memory, (-1, heads * size * size)),
                                                         ops.reshape(normalizer, (-1, width)), m_t[..., -1]]

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "conv_width": self.conv_width}


@register_cell("slstm", num_states=4)
def slstm(units, dropout=0.0, recurrent_dropout=0.0, heads=4, block=False, **options):
    """sLSTM (Beck et al. 2024, xLSTM): exponential gating, normalizer and stabilizer, block-diagonal memory mixing."""
    return projected_layer("slstm", SLSTMCell(units, heads=heads, dropout=dropout, block=block), recurrent_dropout,
                           **options)


@register_cell("mlstm", num_states=3)
def mlstm(units, dropout=0.0, recurrent_dropout=0.0, heads=4, parallel_scan="auto", block=False, conv_width=None,
          **options):
    """mLSTM (Beck et al. 2024, xLSTM): matrix memory, exponential input gate, normalizer and stabilizer."""
    cell = MLSTMCell(units, heads=heads, dropout=dropout, block=block,
                     conv_width=block_conv_width("mlstm", block, conv_width))
    return projected_layer("mlstm", cell, recurrent_dropout,
                           parallel_scan=parallel_scan, **options)
