"""Recurrent networks from scratch in NumPy: the readable version of what
`cell="simple"` and `cell="lstm"` compute, and of how they learn.

A simple RNN and an LSTM with their forward pass and backpropagation through
time (BPTT) written out by hand, optionally truncated to the last `k` steps
of each stretch; a dense output layer; mean squared error and softmax
cross-entropy; gradient clipping by global norm; SGD and Adam. The weights
have Keras' names, shapes and gate order (`kernel`, `recurrent_kernel`,
`bias`; LSTM gates `i, f, c, o`), so `copy_weights_from(keras_layer)` gives
the same outputs and the same gradients as Keras (the tests check both, and
check every gradient against central finite differences).

```python
import numpy as np
from rnnzoo.cells.numpy_reference import LSTM, Adam, SequenceModel

t = np.arange(700) * 0.1
series = np.sin(t) + 0.5 * np.sin(3 * t)
x = np.stack([series[i:i + 20] for i in range(600)])[..., None]   # (windows, 20 steps, 1)
y = series[20:620, None]                                          # the next value
model = SequenceModel(LSTM(input_dim=1, units=16), output_dim=1, loss="mse")
losses = model.fit(x, y, steps=300, optimizer=Adam(0.01), clipnorm=1.0, truncate=10)
```

Not meant for speed (one Python loop over time, float64 by default): use the
Keras cells for real work.
"""

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


def _glorot(rng, fan_in, fan_out, dtype):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype)


def _orthogonal(rng, rows, columns, dtype):
    q, r = np.linalg.qr(rng.normal(size=(max(rows, columns), min(rows, columns))))
    q = q * np.sign(np.diag(r))
    return (q if rows >= columns else q.T)[:rows, :columns].astype(dtype)


def _cut_after(t, steps, truncate):
    """Whether the gradient stops between step `t - 1` and step `t` when BPTT
    is truncated to stretches of `truncate` steps counted from the end (so a
    loss on the last step reaches exactly its last `truncate` steps)."""
    return truncate is not None and (steps - t) % truncate == 0


class SimpleRNN:
    """`h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`
    (Elman 1990), as `keras.layers.SimpleRNN`."""

    def __init__(self, input_dim, units, seed=0, dtype="float64"):
        rng = np.random.default_rng(seed)
        self.units = units
        self.params = {"kernel": _glorot(rng, input_dim, units, dtype),
                       "recurrent_kernel": _orthogonal(rng, units, units, dtype),
                       "bias": np.zeros(units, dtype)}

    def initial_states(self, batch):
        return [np.zeros((batch, self.units), self.params["bias"].dtype)]

    def forward(self, x, states=None):
        """`x`: `(batch, steps, input_dim)` -> hidden states `(batch, steps,
        units)` and the cache `backward` needs."""
        p = self.params
        (h,) = states or self.initial_states(len(x))
        previous, outputs = [], []
        for t in range(x.shape[1]):
            previous.append(h)
            h = np.tanh(x[:, t] @ p["kernel"] + h @ p["recurrent_kernel"] + p["bias"])
            outputs.append(h)
        hs = np.stack(outputs, axis=1)
        return hs, (x, np.stack(previous, axis=1), hs)

    def backward(self, d_hs, cache, truncate=None):
        """BPTT: the loss's gradient with respect to every hidden state
        `(batch, steps, units)` -> `(grads, d_x, d_initial_states)`."""
        x, previous, hs = cache
        p = self.params
        grads = {name: np.zeros_like(value) for name, value in p.items()}
        d_x = np.zeros_like(x)
        d_next = np.zeros_like(hs[:, 0])
        steps = x.shape[1]
        for t in reversed(range(steps)):
            d_h = d_hs[:, t] + d_next
            d_a = d_h * (1.0 - hs[:, t] ** 2)  # through tanh
            grads["kernel"] += x[:, t].T @ d_a
            grads["recurrent_kernel"] += previous[:, t].T @ d_a
            grads["bias"] += d_a.sum(axis=0)
            d_x[:, t] = d_a @ p["kernel"].T
            d_next = d_a @ p["recurrent_kernel"].T
            if _cut_after(t, steps, truncate):
                d_next = np.zeros_like(d_next)
        return grads, d_x, [d_next]


class LSTM:
    """Long short-term memory (Hochreiter and Schmidhuber 1997, with the
    forget gate of Gers et al. 2000), as `keras.layers.LSTM`:

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias   # [i | f | c | o]
        i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);  g = tanh(z_c)
        c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

    The forget gate's bias starts at 1 (Jozefowicz et al. 2015), as Keras'
    `unit_forget_bias`."""

    def __init__(self, input_dim, units, seed=0, dtype="float64"):
        rng = np.random.default_rng(seed)
        self.units = units
        bias = np.zeros(4 * units, dtype)
        bias[units:2 * units] = 1.0
        self.params = {"kernel": _glorot(rng, input_dim, 4 * units, dtype),
                       "recurrent_kernel": np.concatenate(
                           [_orthogonal(rng, units, units, dtype) for _ in range(4)], axis=1),
                       "bias": bias}

    def initial_states(self, batch):
        zeros = np.zeros((batch, self.units), self.params["bias"].dtype)
        return [zeros, zeros.copy()]

    def forward(self, x, states=None):
        p, u = self.params, self.units
        h, c = states or self.initial_states(len(x))
        steps = []
        for t in range(x.shape[1]):
            z = x[:, t] @ p["kernel"] + h @ p["recurrent_kernel"] + p["bias"]
            i, f, g, o = _sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), _sigmoid(z[:, 3 * u:])
            c_previous, h_previous = c, h
            c = f * c_previous + i * g
            h = o * np.tanh(c)
            steps.append((h_previous, c_previous, i, f, g, o, c, h))
        hs = np.stack([s[-1] for s in steps], axis=1)
        return hs, (x, steps)

    def backward(self, d_hs, cache, truncate=None):
        x, steps = cache
        p = self.params
        grads = {name: np.zeros_like(value) for name, value in p.items()}
        d_x = np.zeros_like(x)
        d_h_next = np.zeros_like(d_hs[:, 0])
        d_c_next = np.zeros_like(d_h_next)
        count = x.shape[1]
        for t in reversed(range(count)):
            h_previous, c_previous, i, f, g, o, c, _ = steps[t]
            d_h = d_hs[:, t] + d_h_next
            tanh_c = np.tanh(c)
            d_o = d_h * tanh_c
            d_c = d_c_next + d_h * o * (1.0 - tanh_c ** 2)
            d_z = np.concatenate([d_c * g * i * (1.0 - i),           # input gate
                                  d_c * c_previous * f * (1.0 - f),  # forget gate
                                  d_c * i * (1.0 - g ** 2),          # candidate
                                  d_o * o * (1.0 - o)], axis=1)      # output gate
            grads["kernel"] += x[:, t].T @ d_z
            grads["recurrent_kernel"] += h_previous.T @ d_z
            grads["bias"] += d_z.sum(axis=0)
            d_x[:, t] = d_z @ p["kernel"].T
            d_h_next = d_z @ p["recurrent_kernel"].T
            d_c_next = d_c * f
            if _cut_after(t, count, truncate):
                d_h_next, d_c_next = np.zeros_like(d_h_next), np.zeros_like(d_c_next)
        return grads, d_x, [d_h_next, d_c_next]


class Dense:
    """`y = h @ kernel + bias`, on the last axis."""

    def __init__(self, input_dim, output_dim, seed=0, dtype="float64"):
        rng = np.random.default_rng(seed + 1)
        self.params = {"kernel": _glorot(rng, input_dim, output_dim, dtype), "bias": np.zeros(output_dim, dtype)}

    def forward(self, h):
        return h @ self.params["kernel"] + self.params["bias"], h

    def backward(self, d_y, h):
        flat_h, flat_d = h.reshape(-1, h.shape[-1]), d_y.reshape(-1, d_y.shape[-1])
        grads = {"kernel": flat_h.T @ flat_d, "bias": flat_d.sum(axis=0)}
        return grads, d_y @ self.params["kernel"].T


def mean_squared_error(predictions, targets):
    """The mean over every element, and its gradient."""
    difference = predictions - targets
    return float(np.mean(difference ** 2)), 2.0 * difference / difference.size


def softmax_cross_entropy(logits, labels):
    """The mean over positions of `-log softmax(logits)[label]`, and its
    gradient. `labels` are integer ids shaped like `logits` less its last axis."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probabilities, labels[..., None], axis=-1)
    gradient = np.exp(log_probabilities)
    np.put_along_axis(gradient, labels[..., None], np.take_along_axis(gradient, labels[..., None], axis=-1) - 1.0,
                      axis=-1)
    return float(-picked.mean()), gradient / labels.size


LOSSES = {"mse": mean_squared_error, "cross_entropy": softmax_cross_entropy}


def clip_by_global_norm(grads, max_norm):
    """Scale every gradient by `max_norm / norm` when the norm of all of them
    together exceeds `max_norm` (Pascanu et al. 2013); returns `(grads, norm)`."""
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    if max_norm is None or norm <= max_norm:
        return grads, norm
    return {name: g * (max_norm / norm) for name, g in grads.items()}, norm


class SGD:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate

    def step(self, params, grads):
        for name, gradient in grads.items():
            params[name] -= self.learning_rate * gradient


class Adam:
    """Kingma and Ba (2015), with bias correction."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon
        self.moments, self.iterations = {}, 0

    def step(self, params, grads):
        self.iterations += 1
        for name, gradient in grads.items():
            m, v = self.moments.get(name, (np.zeros_like(gradient), np.zeros_like(gradient)))
            m = self.beta_1 * m + (1 - self.beta_1) * gradient
            v = self.beta_2 * v + (1 - self.beta_2) * gradient ** 2
            self.moments[name] = (m, v)
            m_hat = m / (1 - self.beta_1 ** self.iterations)
            v_hat = v / (1 - self.beta_2 ** self.iterations)
            params[name] -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)


class SequenceModel:
    """A recurrent layer and a dense head: many-to-one (the head reads the
    last hidden state; targets `(batch, output_dim)`) or many-to-many (every
    hidden state; targets `(batch, steps, output_dim)`, or ids `(batch,
    steps)` for cross-entropy)."""

    def __init__(self, recurrent, output_dim, loss="mse", many_to_many=False, seed=0):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}.")
        dtype = recurrent.params["bias"].dtype
        self.recurrent, self.head = recurrent, Dense(recurrent.units, output_dim, seed=seed, dtype=dtype)
        self.loss, self.many_to_many = loss, many_to_many

    @property
    def parameters(self):
        """Every weight, keyed `recurrent/kernel`, `head/bias`, ... (arrays
        updated in place by the optimizers)."""
        return {**{f"recurrent/{k}": v for k, v in self.recurrent.params.items()},
                **{f"head/{k}": v for k, v in self.head.params.items()}}

    def predict(self, x):
        hs, _ = self.recurrent.forward(x)
        return self.head.forward(hs if self.many_to_many else hs[:, -1])[0]

    def loss_and_gradients(self, x, y, truncate=None):
        """The loss and its gradient for every parameter (by BPTT, truncated
        to stretches of `truncate` steps if given)."""
        hs, cache = self.recurrent.forward(x)
        read = hs if self.many_to_many else hs[:, -1]
        outputs, head_cache = self.head.forward(read)
        loss, d_outputs = LOSSES[self.loss](outputs, y)
        head_grads, d_read = self.head.backward(d_outputs, head_cache)
        d_hs = d_read if self.many_to_many else np.zeros_like(hs)
        if not self.many_to_many:
            d_hs[:, -1] = d_read
        grads, _, _ = self.recurrent.backward(d_hs, cache, truncate=truncate)
        return loss, {**{f"recurrent/{k}": v for k, v in grads.items()},
                      **{f"head/{k}": v for k, v in head_grads.items()}}

    def fit(self, x, y, *, steps, optimizer=None, batch_size=32, clipnorm=None, truncate=None, seed=0):
        """`steps` updates on random batches; returns the loss of each."""
        optimizer = optimizer or Adam()
        rng = np.random.default_rng(seed)
        parameters, losses = self.parameters, []
        for _ in range(steps):
            batch = rng.choice(len(x), size=min(batch_size, len(x)), replace=False)
            loss, grads = self.loss_and_gradients(x[batch], y[batch], truncate=truncate)
            grads, _ = clip_by_global_norm(grads, clipnorm)
            optimizer.step(parameters, grads)
            losses.append(loss)
        return losses

    def copy_weights_from(self, recurrent_layer, dense_layer):
        """Take the weights of a built `keras.layers.SimpleRNN` / `LSTM` and
        `keras.layers.Dense` (same sizes)."""
        for params, layer in ((self.recurrent.params, recurrent_layer), (self.head.params, dense_layer)):
            weights = [np.asarray(w) for w in layer.get_weights()]
            for name, value in zip(params, weights):
                if params[name].shape != value.shape:
                    raise ValueError(f"{layer.name}: {name} is {value.shape}, this model's is {params[name].shape}.")
                params[name][...] = value
