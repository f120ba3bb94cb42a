"""NumPy reference implementations of the seed equations: the test oracle.

Weights use Keras' layouts so a Keras layer's weights can be passed as they
are: kernels `(input_dim, gates * units)`, recurrent kernels
`(units, gates * units)`; gate order LSTM `i, f, c, o`; GRU `z, r, h`.
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def simple_rnn(inputs, kernel, recurrent_kernel, bias, activation="tanh", h=None):
    """h_t = act(W_x x_t + W_h h_{t-1} + b). Returns (outputs, h_T)."""
    act = np.tanh if activation == "tanh" else (lambda v: np.maximum(v, 0.0))
    batch, steps, _ = inputs.shape
    h = np.zeros((batch, kernel.shape[1])) if h is None else h
    outputs = []
    for t in range(steps):
        h = act(inputs[:, t] @ kernel + h @ recurrent_kernel + bias)
        outputs.append(h)
    return np.stack(outputs, 1), h


def lstm(inputs, kernel, recurrent_kernel, bias, h=None, c=None):
    """i, f, o = sigmoid(...); g = tanh(...); c_t = f c_{t-1} + i g;
    h_t = o tanh(c_t). Returns (outputs, h_T, c_T)."""
    batch, steps, _ = inputs.shape
    units = recurrent_kernel.shape[0]
    h = np.zeros((batch, units)) if h is None else h
    c = np.zeros((batch, units)) if c is None else c
    outputs = []
    for t in range(steps):
        z = inputs[:, t] @ kernel + h @ recurrent_kernel + bias
        i = sigmoid(z[:, :units])
        f = sigmoid(z[:, units:2 * units])
        g = np.tanh(z[:, 2 * units:3 * units])
        o = sigmoid(z[:, 3 * units:])
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, 1), h, c


def gru(inputs, kernel, recurrent_kernel, bias, h=None):
    """Reset gate applied to the recurrent term (Keras `reset_after=True`):
    z = sigmoid(W_z x + b_z + U_z h + b'_z); r likewise;
    n = tanh(W_n x + b_n + r * (U_n h + b'_n)); h_t = z h_{t-1} + (1 - z) n.
    `bias` is `(2, 3 * units)`: input bias, recurrent bias."""
    batch, steps, _ = inputs.shape
    units = recurrent_kernel.shape[0]
    h = np.zeros((batch, units)) if h is None else h
    input_bias, recurrent_bias = bias
    outputs = []
    for t in range(steps):
        x_part = inputs[:, t] @ kernel + input_bias
        h_part = h @ recurrent_kernel + recurrent_bias
        z = sigmoid(x_part[:, :units] + h_part[:, :units])
        r = sigmoid(x_part[:, units:2 * units] + h_part[:, units:2 * units])
        n = np.tanh(x_part[:, 2 * units:] + r * h_part[:, 2 * units:])
        h = z * h + (1.0 - z) * n
        outputs.append(h)
    return np.stack(outputs, 1), h


def _scan(inputs, step, states):
    """Runs `step(x_t, states) -> (h_t, states)` over time; (outputs, states)."""
    outputs = []
    for t in range(inputs.shape[1]):
        h, states = step(inputs[:, t], states)
        outputs.append(h)
    return np.stack(outputs, 1), states


def min_gru(inputs, kernel, bias):
    """Feng et al. 2024, Algorithm 2: z = sigmoid(Linear_z(x)),
    h~ = Linear_h(x), h_t = (1 - z) h_{t-1} + z h~. Kernel columns z, h~."""
    units = kernel.shape[1] // 2

    def step(x, h):
        projected = x @ kernel + bias
        z, candidate = sigmoid(projected[:, :units]), projected[:, units:]
        h = (1 - z) * h + z * candidate
        return h, h

    return _scan(inputs, step, np.zeros((inputs.shape[0], units)))


def min_lstm(inputs, kernel, bias):
    """Feng et al. 2024, Algorithm 4: f, i = sigmoid(Linear(x)),
    h~ = Linear_h(x); f' = f / (f + i), i' = i / (f + i);
    h_t = f' h_{t-1} + i' h~. Kernel columns f, i, h~."""
    units = kernel.shape[1] // 3

    def step(x, h):
        projected = x @ kernel + bias
        f, i = sigmoid(projected[:, :units]), sigmoid(projected[:, units:2 * units])
        h = f / (f + i) * h + i / (f + i) * projected[:, 2 * units:]
        return h, h

    return _scan(inputs, step, np.zeros((inputs.shape[0], units)))


def indrnn(inputs, kernel, recurrent_weight, bias, activation="relu"):
    """Li et al. 2018, eq. 2: h_t = act(W x_t + u * h_{t-1} + b)."""
    act = np.tanh if activation == "tanh" else (lambda v: np.maximum(v, 0.0))

    def step(x, h):
        h = act(x @ kernel + recurrent_weight * h + bias)
        return h, h

    return _scan(inputs, step, np.zeros((inputs.shape[0], kernel.shape[1])))


def sru(inputs, kernel, vector_f, vector_r, bias):
    """Lei et al. 2018, eqs. 3-6 (W' x for the highway when sizes differ).
    Kernel columns W, W_f, W_r[, W']; bias b_f, b_r. Returns (h, c_T)."""
    units = vector_f.shape[0]
    b_f, b_r = bias[:units], bias[units:]

    def step(x, c):
        projected = x @ kernel
        candidate, f_pre, r_pre = (projected[:, k * units:(k + 1) * units] for k in range(3))
        skip = projected[:, 3 * units:] if kernel.shape[1] == 4 * units else x
        f = sigmoid(f_pre + vector_f * c + b_f)
        r = sigmoid(r_pre + vector_r * c + b_r)
        c = f * c + (1 - f) * candidate
        return r * c + (1 - r) * skip, c

    return _scan(inputs, step, np.zeros((inputs.shape[0], units)))


def qrnn(inputs, kernel, bias, window):
    """Bradbury et al. 2017, eqs. 1-4 with fo-pooling, written as the
    convolution itself: the gates at t read x_{t-window+1} .. x_t (zeros
    before the start) through the kernel's column blocks, oldest first.
    Returns (h, c_T)."""
    batch, steps, _ = inputs.shape
    units = bias.shape[0] // 3
    blocks = np.split(kernel, window, axis=1)
    padded = np.concatenate([np.zeros((batch, window - 1, inputs.shape[2])), inputs], axis=1)
    gates = np.stack([sum(padded[:, t + j] @ blocks[j] for j in range(window)) + bias for t in range(steps)], 1)

    def step(g, c):
        z, f, o = np.tanh(g[:, :units]), sigmoid(g[:, units:2 * units]), sigmoid(g[:, 2 * units:])
        c = f * c + (1 - f) * z
        return o * c, c

    return _scan(gates, step, np.zeros((batch, units)))


def _layer_norm(x, epsilon=1e-5):
    mean = x.mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + epsilon)


def layer_norm_lstm(inputs, kernel, recurrent_kernel, bias, input_gain, recurrent_gain, cell_gain, cell_shift):
    """Ba et al. 2016, eqs. 20-22: LN over all four gates' summed inputs,
    from x and from h separately, and LN on c_t before the output tanh.
    Gate order i, f, g, o. Returns (h, (h_T, c_T))."""
    units = recurrent_kernel.shape[0]

    def step(x, states):
        h, c = states
        z = (_layer_norm(x @ kernel) * input_gain + _layer_norm(h @ recurrent_kernel) * recurrent_gain + bias)
        i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(_layer_norm(c) * cell_gain + cell_shift)
        return h, (h, c)

    zeros = np.zeros((inputs.shape[0], units))
    return _scan(inputs, step, (zeros, zeros))


# --- The modern recurrent families ---------------------------------------------


def lru(inputs, nu_log, theta_log, gamma_log, kernel, output_kernel, skip_kernel):
    """Orvieto et al. 2023, Algorithm 1, in complex arithmetic:
    lambda = exp(-exp(nu_log) + i exp(theta_log)); x_t = lambda x_{t-1} +
    exp(gamma_log) (B u_t); y_t = Re(C x_t) + D u_t. B = kernel's real |
    imaginary halves; Re(C x) = x_re @ K_top + x_im @ K_bottom, i.e. C =
    K_top - i K_bottom. Returns (y, (x_re, x_im) at the end)."""
    units = nu_log.shape[0]
    lam = np.exp(-np.exp(nu_log) + 1j * np.exp(theta_log))
    b = kernel[:, :units] + 1j * kernel[:, units:]
    c = output_kernel[:units] - 1j * output_kernel[units:]

    def step(u, x):
        x = lam * x + np.exp(gamma_log) * (u @ b)
        return (x @ c).real + u @ skip_kernel, x

    outputs, x = _scan(inputs, step, np.zeros((inputs.shape[0], units), complex))
    return outputs, (x.real, x.imag)


def rg_lru(inputs, kernel, bias, recurrent_param, c=8.0):
    """De et al. 2024, section 2.4: r = sigmoid(W_a x + b_a), i =
    sigmoid(W_x x + b_x), a_t = sigmoid(Lambda)^(c r), h_t = a_t h_{t-1} +
    sqrt(1 - a_t^2) (i * u) with u = W_u x + b_u. Kernel columns u, r, i."""
    units = recurrent_param.shape[0]

    def step(x, h):
        z = x @ kernel + bias
        u, r, i = z[:, :units], sigmoid(z[:, units:2 * units]), sigmoid(z[:, 2 * units:])
        a = sigmoid(recurrent_param) ** (c * r)
        h = a * h + np.sqrt(1 - a ** 2) * (i * u)
        return h, h

    return _scan(inputs, step, np.zeros((inputs.shape[0], units)))


def slstm(inputs, kernel, recurrent_kernel, bias):
    """Beck et al. 2024, eqs. 8-14, unstabilized (float64): z = tanh(.),
    i = exp(.), f = sigmoid(.), o = sigmoid(.) of W x + R h + b, with R
    block-diagonal (head j's units feed head j's gates only); c_t = f c + i z,
    n_t = f n + i, h_t = o c_t / n_t. Gate order z, i, f, o. Returns (h, (h_T,))."""
    heads, size, _ = recurrent_kernel.shape
    units = heads * size
    full = np.zeros((units, 4 * units))  # the block-diagonal R, in the kernel's column layout
    for j in range(heads):
        for g in range(4):
            full[j * size:(j + 1) * size, g * units + j * size:g * units + (j + 1) * size] = \
                recurrent_kernel[j][:, g * size:(g + 1) * size]

    def step(x, states):
        h, c, n = states
        pre = x @ kernel + h @ full + bias
        z, i, f, o = (pre[:, g * units:(g + 1) * units] for g in range(4))
        c = sigmoid(f) * c + np.exp(i) * np.tanh(z)
        n = sigmoid(f) * n + np.exp(i)
        h = sigmoid(o) * c / n
        return h, (h, c, n)

    zeros = np.zeros((inputs.shape[0], units))
    outputs, (h, _, _) = _scan(inputs, step, (zeros, zeros, zeros))
    return outputs, (h,)


def mlstm(inputs, kernel, bias, norm_scale, input_scale, heads):
    """Beck et al. 2024, eqs. 19-27, unstabilized (float64), per head of
    d = units / heads: q, k = W_k x / sqrt(d), v; i = exp(w_i x + b_i), f =
    sigmoid(w_f x + b_f) (scalars); C_t = f C + i v k^T, n_t = f n + i k;
    h~_t = C_t q / max(|n_t . q|, 1); h_t = sigmoid(W_o x + b_o) * LN(h~_t)
    per head (mean 0, variance 1, eps 1e-5, times norm_scale), x first
    RMS-normalized (eps 1e-5, times input_scale). Kernel columns
    q, k, v, o, then the heads' input and forget gates; bias o, i, f."""
    units = (kernel.shape[1] - 2 * heads) // 4
    size = units // heads
    batch = inputs.shape[0]

    def step(x, states):
        memory, normalizer = states
        z = (x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-5) * input_scale) @ kernel
        q, k, v = (z[:, j * units:(j + 1) * units].reshape(batch, heads, size) for j in range(3))
        k = k / np.sqrt(size)
        o = sigmoid(z[:, 3 * units:4 * units] + bias[:units])
        i = np.exp(z[:, 4 * units:4 * units + heads] + bias[units:units + heads])[..., None]
        f = sigmoid(z[:, 4 * units + heads:] + bias[units + heads:])[..., None]
        memory = f[..., None] * memory + i[..., None] * np.einsum("bhv,bhk->bhvk", v, k)
        normalizer = f * normalizer + i * k
        numerator = np.einsum("bhvk,bhk->bhv", memory, q)
        hidden = numerator / np.maximum(np.abs((normalizer * q).sum(-1)), 1.0)[..., None]
        centered = hidden - hidden.mean(-1, keepdims=True)
        hidden = centered / np.sqrt((centered ** 2).mean(-1, keepdims=True) + 1e-5) * norm_scale.reshape(heads, size)
        return o * hidden.reshape(batch, units), (memory, normalizer)

    start = (np.zeros((batch, heads, size, size)), np.zeros((batch, heads, size)))
    outputs, _ = _scan(inputs, step, start)
    return outputs, ()  # its states are the stabilized C, n, m: compared through the outputs


def _silu(x):
    return x * sigmoid(x)


def _softplus(x):
    return np.log1p(np.exp(x))


def _rms_norm(x, scale, epsilon=1e-5):
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + epsilon) * scale


def mamba2(inputs, in_kernel, conv_kernel, conv_bias, dt_bias, a_log, d, norm_scale, out_kernel, input_scale, heads,
           state_dim):
    """Dao and Gu 2024, the Mamba-2 block's mixer with one group: [z, x, B,
    C, dt] = u W_in; [x, B, C] = SiLU(causal depthwise conv (oldest tap
    first, zeros before the start) + bias); dt = softplus(dt + dt_bias);
    per head S_t = exp(-dt exp(A_log)) S_{t-1} + dt x_t B_t^T; y = S_t C_t +
    D x_t; out = RMSNorm(y * SiLU(z)) W_out."""
    batch, steps, _ = inputs.shape
    inner = norm_scale.shape[0]
    size, window = inner // heads, conv_kernel.shape[0]
    channels = inner + 2 * state_dim
    projected = _rms_norm(inputs, input_scale) @ in_kernel  # the block's pre-norm
    z, xbc, dt = projected[..., :inner], projected[..., inner:inner + channels], projected[..., inner + channels:]
    padded = np.concatenate([np.zeros((batch, window - 1, channels)), xbc], axis=1)
    conv = np.stack([sum(padded[:, t + j] * conv_kernel[j] for j in range(window)) for t in range(steps)], 1)
    xbc = _silu(conv + conv_bias)
    memory = np.zeros((batch, heads, size, state_dim))
    outputs = []
    for t in range(steps):
        x = xbc[:, t, :inner].reshape(batch, heads, size)
        b, c = xbc[:, t, inner:inner + state_dim], xbc[:, t, inner + state_dim:]
        step_dt = _softplus(dt[:, t] + dt_bias)
        decay = np.exp(-step_dt * np.exp(a_log))
        memory = decay[:, :, None, None] * memory + np.einsum("bh,bhp,bn->bhpn", step_dt, x, b)
        y = np.einsum("bhpn,bn->bhp", memory, c) + d[:, None] * x
        outputs.append(_rms_norm(y.reshape(batch, inner) * _silu(z[:, t]), norm_scale) @ out_kernel)
    return np.stack(outputs, 1), (memory.reshape(batch, -1),)


def gated_deltanet(inputs, kernel, conv_kernel, dt_bias, a_log, norm_scale, out_kernel, input_scale, heads):
    """Yang et al. 2024, eq. 10 with the block's projections: q, k, v =
    SiLU(causal depthwise conv of x W, oldest tap first, zeros before the
    start) (q, k L2-normalized per head, q / sqrt(d)); alpha =
    exp(-exp(A_log) softplus(x W_a + dt_bias)); beta = sigmoid(x W_b);
    S_t = alpha S_{t-1} (I - beta k k^T) + beta v k^T (as matrices);
    o = S_t q; out = (RMSNorm(o) * SiLU(x W_g)) W_out."""
    batch, steps, _ = inputs.shape
    units = out_kernel.shape[0]
    size = units // heads
    window = conv_kernel.shape[0]
    projected = _rms_norm(inputs, input_scale) @ kernel  # the block's pre-norm
    padded = np.concatenate([np.zeros((batch, window - 1, 3 * units)), projected[..., :3 * units]], axis=1)
    conv = np.stack([sum(padded[:, t + j] * conv_kernel[j] for j in range(window)) for t in range(steps)], 1)
    memory = np.zeros((batch, heads, size, size))
    outputs = []
    for t in range(steps):
        z = projected[:, t]
        q, k, v = (_silu(conv[:, t, j * units:(j + 1) * units]).reshape(batch, heads, size) for j in range(3))
        q = q / np.linalg.norm(q, axis=-1, keepdims=True) / np.sqrt(size)
        k = k / np.linalg.norm(k, axis=-1, keepdims=True)
        alpha = np.exp(-np.exp(a_log) * _softplus(z[:, 4 * units:4 * units + heads] + dt_bias))
        beta = sigmoid(z[:, 4 * units + heads:])
        new = np.empty_like(memory)
        for n in range(batch):
            for h in range(heads):
                transition = np.eye(size) - beta[n, h] * np.outer(k[n, h], k[n, h])
                new[n, h] = alpha[n, h] * memory[n, h] @ transition + beta[n, h] * np.outer(v[n, h], k[n, h])
        memory = new
        o = np.einsum("bhvk,bhk->bhv", memory, q)
        gate = _silu(z[:, 3 * units:4 * units])
        outputs.append((_rms_norm(o, norm_scale).reshape(batch, units) * gate) @ out_kernel)
    return np.stack(outputs, 1), (memory.reshape(batch, -1),)


# --- The papers' blocks around the mixers (`block=True`) ---

def _gelu(x):
    """GELU, tanh approximation (Hendrycks and Gimpel 2016; Keras' default)."""
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def _causal_conv(x, kernel, bias):
    """Depthwise over time, oldest tap first, zeros before the start."""
    window, steps = kernel.shape[0], x.shape[1]
    padded = np.concatenate([np.zeros((x.shape[0], window - 1, x.shape[2])), x], axis=1)
    return sum(padded[:, j:j + steps] * kernel[j] for j in range(window)) + bias


def griffin_recurrent_block(inputs, kernel, bias, conv_kernel, conv_bias, gate_kernel, gate_bias, recurrent_param,
                            output_kernel, c=8.0):
    """De et al. 2024, Figure 2's recurrent block: g = GeLU(x W_g + b_g);
    u = conv(x W_u + b_u); the RG-LRU over u with gates reading u; out =
    (g * h) W_o. Kernel columns g, u; gate kernel columns r, i."""
    units = recurrent_param.shape[0]
    projected = inputs @ kernel + bias
    gate, u = _gelu(projected[..., :units]), _causal_conv(projected[..., units:], conv_kernel, conv_bias)
    gates = u @ gate_kernel + gate_bias
    r, i = sigmoid(gates[..., :units]), sigmoid(gates[..., units:])
    a = sigmoid(recurrent_param) ** (c * r)
    h, hidden = np.zeros((inputs.shape[0], units)), []
    for t in range(inputs.shape[1]):
        h = a[:, t] * h + np.sqrt(1 - a[:, t] ** 2) * (i[:, t] * u[:, t])
        hidden.append(h)
    return (gate * np.stack(hidden, 1)) @ output_kernel, h


def paper_block(inputs, mixer, norm, pre_scale=None, residual_kernel=None, mlp=None, mixer_output=lambda y: y):
    """A pre-norm residual block: h = r + mixer_output(mixer(norm(x))) (the
    norm left to the mixer when `pre_scale` is None; r = x, or x times
    `residual_kernel`), then, with `mlp` = (activation, scale, kernel,
    output_kernel): h + (act(n W_gate) * n W_up) W_down, n = norm(h)."""
    norms = {"rms": _rms_norm, "layer": lambda x, scale: _layer_norm(x) * scale}
    mixed = mixer(inputs if pre_scale is None else norms[norm](inputs, pre_scale))
    hidden = (inputs if residual_kernel is None else inputs @ residual_kernel) + mixer_output(mixed)
    if mlp is None:
        return hidden
    activation, scale, kernel, output_kernel = mlp
    gate, up = np.split(norms[norm](hidden, scale) @ kernel, 2, axis=-1)
    act = {"gelu": _gelu, "silu": _silu}[activation]
    return hidden + (act(gate) * up) @ output_kernel


def mlstm_block_mixer(inputs, up_kernel, v_kernel, conv_kernel, conv_bias, qk_kernel, gate_kernel, gate_bias,
                      norm_scale, skip, down_kernel, heads):
    """Beck et al. 2024, Figure 11 (the mLSTM block, pre up-projection), its
    inner part, unstabilized (float64): [a, b] = x W_up; c = SiLU(conv(a));
    q, k = c W_q, c W_k / sqrt(d); v = a W_v; [log i, f~] = [q, k, v] W_g +
    b_g; the mLSTM memory (see `mlstm`) normed per head; out = ((h~ + skip
    * c) * SiLU(b)) W_down. (The residual and pre-norm: `paper_block`.)"""
    batch, steps, _ = inputs.shape
    width = v_kernel.shape[0]
    size = width // heads
    up = inputs @ up_kernel
    a, b = up[..., :width], up[..., width:]
    c = _silu(_causal_conv(a, conv_kernel, conv_bias))
    q, k, v = c @ qk_kernel[:, :width], c @ qk_kernel[:, width:] / np.sqrt(size), a @ v_kernel
    gates = np.concatenate([q, k * np.sqrt(size), v], -1) @ gate_kernel + gate_bias
    i, f = np.exp(gates[..., :heads]), sigmoid(gates[..., heads:])
    memory, normalizer, outputs = np.zeros((batch, heads, size, size)), np.zeros((batch, heads, size)), []
    for t in range(steps):
        qt, kt, vt = (x[:, t].reshape(batch, heads, size) for x in (q, k, v))
        memory = f[:, t, :, None, None] * memory + i[:, t, :, None, None] * np.einsum("bhv,bhk->bhvk", vt, kt)
        normalizer = f[:, t, :, None] * normalizer + i[:, t, :, None] * kt
        hidden = np.einsum("bhvk,bhk->bhv", memory, qt)
        hidden = hidden / np.maximum(np.abs((normalizer * qt).sum(-1)), 1.0)[..., None]
        hidden = _layer_norm(hidden) * norm_scale.reshape(heads, size)
        outputs.append(hidden.reshape(batch, width))
    return ((np.stack(outputs, 1) + skip * c) * _silu(b)) @ down_kernel, ()
