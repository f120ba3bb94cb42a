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
