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
