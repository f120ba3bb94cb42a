"""The base of the efficient cells: input projections for every step at once.

In the efficient cells (IndRNN, SRU, QRNN, minGRU, minLSTM, and the input
half of the layer-normalized LSTM) the terms that depend on the inputs do
not depend on the state. `ProjectedRNN` computes them for the whole sequence
in one matrix multiply (or one convolution over time). Only the cheap
state-dependent part then runs step by step (`ProjectedCell.step`). A cell
with a *linear* recurrence, `h_t = a_t * h_{t-1} + b_t` (minGRU, minLSTM),
can skip the step loop altogether: `ProjectedRNN` solves it with a
parallel associative scan over blocks of time (`linear_recurrence`), so only
T / 64 steps run one after another instead of T. It does so on GPUs and
TPUs; on a CPU the plain loop is faster (see `ProjectedRNN`).

Semantics are Keras' `keras.layers.RNN`: masks (a masked step keeps the
state; its output repeats the previous one, or is zero with
`zero_output_for_mask`), `go_backwards`, `initial_state`, `stateful`,
`return_sequences`, `return_state`. The cell also keeps the one-step
contract `cell(inputs_t, states) -> (output_t, new_states)`, so streaming
models and hand-stepped decoders use it unchanged.

The cells with a matrix memory (mLSTM, Mamba-2, Gated DeltaNet) are not
elementwise, but a chunk of steps can still be computed at once from the
states before it (`ProjectedCell.chunk`); `ProjectedRNN` then loops over
chunks of `CHUNK` steps instead of over steps.

A new efficient cell subclasses `ProjectedCell`: `build` its weights,
`project(sequence, states)` (the state-free terms for every step),
`step(projected_t, states)`, and for a linear recurrence
`coefficients(projected) -> (a, b)`, or for a chunked form `chunk`.

The modern cells are their papers' token mixers; `block=True` wraps one in
its paper's residual block (`ProjectedCell.run_step`): a pre-norm, the
mixer, the residual, and where the paper has one a gated MLP with its own
pre-norm and residual. Every piece of it works step by step, so a block is
still a cell: `num_layers` stacks blocks, and decoders, streaming models
and chunked forms run them unchanged.
"""

import contextlib

import keras
from keras import ops
from keras.src import backend as keras_backend  # the loop keras.layers.RNN itself runs

from rnnzoo.cells import kernels

_STEP_FORMS = []  # not empty while `step_forms()` is in force
EPSILON = 1e-5


def rms_norm(x, scale):
    """RMSNorm over the last axis (Zhang and Sennrich 2019), then `scale`."""
    return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + EPSILON) * scale


def layer_norm(x, scale):
    """Layer norm over the last axis, then `scale` (no bias, as xLSTM's)."""
    centered = x - ops.mean(x, axis=-1, keepdims=True)
    return centered * ops.rsqrt(ops.mean(ops.square(centered), axis=-1, keepdims=True) + EPSILON) * scale


NORMS = {"rms": rms_norm, "layer": layer_norm}
MLP_ACTIVATIONS = {"gelu": ops.gelu, "silu": ops.silu}


def _why_step_loop(layer, cell):
    if layer.unroll:
        return "unroll=True"
    if cell.linear_recurrence:
        return "parallel_scan=False" if layer.parallel_scan is False else "on a CPU the step loop is faster"
    if not cell.chunked_form:
        return f"{type(cell).__name__} has no parallel form"
    return "parallel_scan=False" if layer.parallel_scan is False else "a sequence shorter than a chunk"


@contextlib.contextmanager
def step_forms():
    """Within it, every `ProjectedRNN` runs its step loop, never a chunked
    form: for graphs traced for TFLite, whose builtin ops lack the
    triangular solve of Gated DeltaNet's chunked form (the outputs are the
    same)."""
    _STEP_FORMS.append(True)
    try:
        yield
    finally:
        _STEP_FORMS.pop()


class ProjectedCell(keras.layers.Layer):
    """A recurrent cell whose input terms are computed for all steps at once.

    Args:
        units: the state and output size.
        dropout: rate of input dropout; one mask per sequence, shared by
            every step (as Keras' recurrent layers do).
        seed: seed of the dropout masks.
        block: wrap the mixer in its paper's block (cells with
            `block_name`; see `run_step`).
    """

    linear_recurrence = False  # True: `coefficients` gives h_t = a_t h_{t-1} + b_t
    chunked_form = False  # True: `chunk` computes a chunk of steps at once
    # The paper's block, for `block=True` (a cell that has one names it and calls `build_block` in `build`):
    block_name = None  # e.g. "Griffin's residual block"
    block_norm = "rms"  # the block's pre-norms: "rms" or "layer"
    block_mlp = None  # (activation, expansion) of the gated MLP after the mixer, or None
    normalizes_input = False  # the mixer normalizes its input itself (then the block adds no pre-norm)

    def __init__(self, units, dropout=0.0, seed=None, block=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"{type(self).__name__}: `units` must be a positive integer, got {units!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{type(self).__name__}: `dropout` must be in [0, 1), got {dropout!r}.")
        if block not in (True, False):
            raise ValueError(f"{type(self).__name__}: `block` must be True or False, got {block!r}.")
        if block and self.block_name is None:
            raise ValueError(f"{type(self).__name__}: this cell has no paper block; `block=True` is for "
                             "lru, rg_lru, slstm, mlstm, mamba2 and gated_deltanet.")
        self.units = units
        self.dropout = float(dropout)
        self.seed = seed
        self.block = bool(block)
        if self.block:  # the block's output is not the state: the recurrence is no longer h_t = a_t h_{t-1} + b_t
            self.linear_recurrence = False
        self.seed_generator = keras.random.SeedGenerator(seed) if dropout else None
        self.state_size = units
        self.output_size = units

    def project(self, sequence, states):
        """`(batch, time, input_dim)` -> `(batch, time, projected)`."""
        raise NotImplementedError

    def step(self, projected, states):
        """One step from its projected inputs: `(output, new_states)`."""
        raise NotImplementedError

    def coefficients(self, projected):
        """For a linear recurrence: `(a, b)` with h_t = a_t h_{t-1} + b_t."""
        raise NotImplementedError

    def chunk(self, projected, real, states):
        """For a chunked form: the outputs `(batch, steps, units)` of a chunk
        of projected steps and the states after it, from the states before;
        a step with `real` 0 must leave the states as they are (its output
        is replaced)."""
        raise NotImplementedError

    # --- The paper's block around the mixer (`block=True`) ---

    def build_block(self, input_dim):
        """The block's weights (none without `block`): the pre-norm's scale
        (unless the mixer normalizes its input), a projection of the
        residual when the input is not `units` wide (a stack's first
        block), the gated MLP's norm scale and kernels."""
        if not self.block:
            return
        if not self.normalizes_input:
            self.block_input_scale = self.add_weight(shape=(input_dim,), name="block_input_scale",
                                                     initializer="ones")
        self.residual_kernel = None
        if input_dim != self.units:
            self.residual_kernel = self.add_weight(shape=(input_dim, self.units), name="residual_kernel",
                                                   initializer="glorot_uniform")
        if self.block_mlp:
            hidden = max(1, round(self.block_mlp[1] * self.units))
            self.mlp_scale = self.add_weight(shape=(self.units,), name="mlp_scale", initializer="ones")
            self.mlp_kernel = self.add_weight(shape=(self.units, 2 * hidden), name="mlp_kernel",
                                              initializer="glorot_uniform")
            self.mlp_output_kernel = self.add_weight(shape=(hidden, self.units), name="mlp_output_kernel",
                                                     initializer="glorot_uniform")

    def mixer_output(self, output):
        """What the block does to the mixer's output before the residual
        (the identity; the LRU's GLU, sLSTM's head norm)."""
        return output

    def run_project(self, sequence, states):
        """`project` within the block: the mixer reads the pre-normed input,
        and the residual stream rides along as the last `units` features."""
        if not self.block:
            return self.project(sequence, states)
        mixer_input = sequence if self.normalizes_input else NORMS[self.block_norm](sequence, self.block_input_scale)
        residual = sequence if self.residual_kernel is None else ops.matmul(sequence, self.residual_kernel)
        return ops.concatenate([self.project(mixer_input, states), residual], axis=-1)

    def run_step(self, projected, states):
        """`step` within the block: with `block`, the output is

            h = r + mixer_output(mixer(norm(x))),   out = h + W_down(act(W_gate n) * W_up n),  n = norm(h)

        (r the input, or its projection to `units`; the MLP where the paper
        has one). It is position-wise around the mixer, so it runs per step
        and per chunk alike, and masked steps are handled as without it."""
        if not self.block:
            return self.step(projected, states)
        output, states = self.step(projected[..., :-self.units], states)
        return self.finish_block(output, projected[..., -self.units:]), states

    def run_chunk(self, projected, real, states):
        """`chunk` within the block (see `run_step`)."""
        if not self.block:
            return self.chunk(projected, real, states)
        outputs, states = self.chunk(projected[..., :-self.units], real, states)
        return self.finish_block(outputs, projected[..., -self.units:]), states

    def finish_block(self, output, residual):
        hidden = residual + self.mixer_output(output)
        if not self.block_mlp:
            return hidden
        gate, up = ops.split(ops.matmul(NORMS[self.block_norm](hidden, self.mlp_scale), self.mlp_kernel), 2, axis=-1)
        return hidden + ops.matmul(MLP_ACTIVATIONS[self.block_mlp[0]](gate) * up, self.mlp_output_kernel)

    def drop_inputs(self, sequence, training):
        """Input dropout: one mask per sequence `(batch, time, features)`, or
        per step `(batch, features)`."""
        if not (training and self.dropout):
            return sequence
        ones = ops.ones_like(sequence[:, :1] if len(sequence.shape) == 3 else sequence)
        keep = keras.random.dropout(ones, self.dropout, seed=self.seed_generator)
        return sequence * keep

    def call(self, inputs, states, training=False):
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        inputs = self.drop_inputs(inputs, training)
        projected = self.run_project(ops.expand_dims(inputs, 1), states)[:, 0]
        return self.run_step(projected, states)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "dropout": self.dropout, "seed": self.seed,
                "block": self.block}


def conv_taps(x, kernel):
    """The input side of `causal_conv_step`: each step's `x` `(...,
    channels)` times every position of a depthwise `kernel` `(window,
    channels)`, oldest position first, flattened to `(..., window *
    channels)`. Computed with the other projections, for all steps at once."""
    window, channels = kernel.shape
    return ops.reshape(ops.expand_dims(x, -2) * kernel, (*ops.shape(x)[:-1], window * channels))


def causal_conv_step(taps, pending, channels):
    """One step of a causal convolution over time carried in a state, for a
    cell whose inputs are projected at once (QRNN, Mamba-2).

    `taps` `(batch, window * channels)`: this step's input times each of the
    window's kernel positions, oldest position first (so the last block
    weighs the step itself). `pending` `(batch, (window - 1) * channels)`:
    what earlier inputs still add to the coming steps, the next step's
    first. Returns `(this step's convolution, the new pending sums)`."""
    current = taps[:, -channels:] + pending[:, :channels]
    window = taps.shape[-1] // channels
    # This input at window position j feeds step t + (window - 1 - j): shift the pending sums one step on.
    later = ops.flip(ops.reshape(taps[:, :-channels], (-1, window - 1, channels)), 1)
    shifted = ops.concatenate([pending[:, channels:], ops.zeros_like(pending[:, :channels])], axis=-1)
    return current, shifted + ops.reshape(later, (-1, (window - 1) * channels))


def causal_conv_chunk(taps, keep, pending):
    """`causal_conv_step` over a chunk of steps at once, for a chunked form.

    `taps` `(batch, steps, window, channels)` (see `causal_conv_step`),
    `keep` `(batch, steps)` the real steps (contiguous in each row: right
    padding, read either way; a masked step's taps are zero), `pending`
    `(batch, (window - 1) * channels)`. The pending sums from before enter at
    the chunk's first real step; the new ones are those after its last.
    Returns `(the convolution at every step, the new pending sums)`."""
    steps, window, channels = taps.shape[1], taps.shape[2], taps.shape[3]
    padded = ops.pad(taps, [[0, 0], [window - 1, window - 1], [0, 0], [0, 0]])
    # The sums at every step and at the window - 1 steps after the chunk.
    extended = sum(padded[:, j:j + steps + window - 1, j] for j in range(window))
    positions = ops.arange(steps + window - 1)
    first = ops.argmax(ops.cast(keep, "int32"), axis=-1)  # the first real step (0 if none)
    last = steps - 1 - ops.argmax(ops.cast(ops.flip(keep, 1), "int32"), axis=-1)
    ahead = ops.arange(window - 1)[None, :]
    landing = ops.cast(positions[None, None, :] == (first[:, None] + ahead)[..., None], pending.dtype)
    extended = extended + ops.einsum("bip,bic->bpc", landing, ops.reshape(pending, (-1, window - 1, channels)))
    after = ops.take_along_axis(extended, (last[:, None] + 1 + ahead)[..., None], axis=1)
    new_pending = ops.where(ops.any(keep, axis=-1)[:, None], ops.reshape(after, (-1, (window - 1) * channels)),
                            pending)
    return extended[:, :steps], new_pending


SCAN_CHUNK = 64  # steps per block of the parallel scan
CHUNK = 64  # steps per chunk of a chunked form


def _scan_within_blocks(a, b, chunk):
    """Inclusive scan along axis 2 (static length `chunk`) by recursive
    doubling (Hillis & Steele 1986): after the pass with offset d, entry t
    composes steps t-2d+1..t. log2(chunk) passes of a few whole-tensor ops
    each, which traces far smaller graphs than `keras.ops.associative_scan`."""
    offset = 1
    while offset < chunk:
        shift = [[0, 0], [0, 0], [offset, 0], [0, 0]]
        earlier_a = ops.pad(a[:, :, :-offset], shift, constant_values=1.0)
        earlier_b = ops.pad(b[:, :, :-offset], shift)
        a, b = earlier_a * a, a * earlier_b + b
        offset *= 2
    return a, b


def linear_recurrence(a, b, initial, chunk=SCAN_CHUNK):
    """h_t = a_t * h_{t-1} + b_t for every t, from `(batch, time, units)`
    coefficients and `initial` h_0 `(batch, units)`; returns h `(batch,
    time, units)`.

    The pairs (a_t, b_t) compose associatively: (a1, b1) then (a2, b2) is
    (a1 a2, a2 b1 + b2), and the composition of steps 1..t maps h_0 to h_t.
    The time axis is cut into blocks of `chunk` steps (padded with the
    identity (1, 0)); a parallel associative scan runs inside every block
    at once, and a short loop over the blocks carries h from one to
    the next. Work stays linear in the length, and the sequential part is
    `time / chunk` steps."""
    a, b = ops.convert_to_tensor(a), ops.convert_to_tensor(b)
    initial = ops.convert_to_tensor(initial, dtype=a.dtype)  # the torch backend's loop stacks tensors only
    shape = ops.shape(a)
    batch, steps, units = shape[0], shape[1], shape[2]
    padding = (-steps) % chunk
    a = ops.pad(a, [[0, 0], [0, padding], [0, 0]], constant_values=1.0)
    b = ops.pad(b, [[0, 0], [0, padding], [0, 0]])
    blocks = (steps + padding) // chunk
    a = ops.reshape(a, (batch, blocks, chunk, units))
    b = ops.reshape(b, (batch, blocks, chunk, units))
    within_a, within_b = _scan_within_blocks(a, b, chunk)

    def carry(block, states):  # -> (h before the block, [h after it])
        block_a, block_b = ops.split(block, 2, axis=-1)
        return states[0], [block_a * states[0] + block_b]

    # Keras' recurrent loop, which (unlike `ops.scan` on TensorFlow) takes an unknown number of blocks.
    block_ends = ops.concatenate([within_a[:, :, -1], within_b[:, :, -1]], axis=-1)
    _, starts, _ = keras_backend.rnn(carry, block_ends, [initial])
    states = within_a * ops.expand_dims(starts, 2) + within_b
    return ops.reshape(states, (batch, blocks * chunk, units))[:, :steps]


def _on_accelerator():
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


@keras.saving.register_keras_serializable(package="rnnzoo")
class ProjectedRNN(keras.layers.RNN):
    """`keras.layers.RNN` over a `ProjectedCell`: projects every step at once,
    then loops over the state-dependent part only, or, for a linear
    recurrence, scans it in parallel.

    `parallel_scan`: True, False, or "auto" (the default). For a linear
    recurrence: the scan on a GPU or TPU, the loop on a CPU, where the
    scan's extra work costs more than its parallelism saves (minGRU, length
    1024, 2 cores: the loop trains 3x faster; `benchmarks/rnn_speed.py`).
    For a cell with a chunked form (mLSTM, Mamba-2, Gated DeltaNet): the
    chunks everywhere, unless the sequence is known to be shorter than one."""

    def __init__(self, cell, parallel_scan="auto", **kwargs):
        if not isinstance(cell, ProjectedCell):
            raise ValueError(f"ProjectedRNN: `cell` must be a rnnzoo ProjectedCell, got {type(cell).__name__}.")
        if parallel_scan not in (True, False, "auto"):
            raise ValueError(f"ProjectedRNN: `parallel_scan` must be True, False or 'auto', got {parallel_scan!r}.")
        super().__init__(cell, **kwargs)
        self.parallel_scan = parallel_scan

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        sequences = cell.drop_inputs(sequences, training)
        if mask is not None:  # what a masked step holds never reaches a later step
            sequences = sequences * ops.cast(ops.expand_dims(mask, -1), sequences.dtype)
        projected = cell.run_project(sequences, initial_state)
        scan = self.parallel_scan is True or (self.parallel_scan == "auto" and _on_accelerator())
        if cell.linear_recurrence and scan and not self.unroll:
            kernels.record(self, "parallel_scan")
            return self._scan(projected, initial_state, mask)
        # A chunked form pays off on every device (mLSTM, length 1024, 2 CPU cores: trains 2.3x faster than
        # the step loop), unless the sequence is known to be shorter than a chunk (a decoder's step).
        long_enough = projected.shape[1] is None or projected.shape[1] >= CHUNK
        chunked = self.parallel_scan is True or (self.parallel_scan == "auto" and long_enough)
        if cell.chunked_form and chunked and not self.unroll and not _STEP_FORMS:
            kernels.record(self, "chunked_scan")
            return self._chunked(projected, initial_state, mask)
        if not _STEP_FORMS:  # a TFLite trace's loop is the file's kernel, not training's
            kernels.record(self, "step_loop", _why_step_loop(self, cell))
        if mask is None:
            return keras_backend.rnn(
                cell.run_step, projected, initial_state, go_backwards=self.go_backwards, unroll=self.unroll,
                input_length=sequences.shape[1], return_all_outputs=self.return_sequences)
        return self._masked_loop(projected, initial_state, mask)

    def _masked_loop(self, projected, initial_state, mask):
        """The step loop with the mask applied here, the same on every
        backend: a masked step keeps the states and repeats the previous
        output (zeros before the first real step, or always with
        `zero_output_for_mask`). Keras' JAX loop takes the first state for
        the previous output, which is wrong for a cell whose output is not
        its first state (LRU, QRNN, mLSTM's matrix memory)."""
        cell, zero_output = self.cell, self.zero_output_for_mask
        real = ops.expand_dims(ops.cast(mask, projected.dtype), -1)

        def step(inputs, states):
            keep = inputs[:, -1:] > 0.5
            *states, previous = states
            output, new_states = cell.run_step(inputs[:, :-1], states)
            new_states = [ops.where(keep, new, old) for new, old in zip(new_states, states)]
            output = ops.where(keep, output, ops.zeros_like(output) if zero_output else previous)
            return output, new_states + [output]

        batch = ops.shape(projected)[0]
        start = list(initial_state) + [ops.zeros((batch, cell.output_size), projected.dtype)]
        last, outputs, states = keras_backend.rnn(
            step, ops.concatenate([projected, real], axis=-1), start, go_backwards=self.go_backwards,
            unroll=self.unroll, input_length=projected.shape[1], return_all_outputs=self.return_sequences)
        return last, outputs, states[:-1]

    def _chunked(self, projected, initial_state, mask):
        """The cell's chunked form (`ProjectedCell.chunk`): chunks of
        `CHUNK` steps, each computed at once, a loop over the chunks carrying
        the states. A masked step keeps the states (the cell treats it as the
        identity) and repeats the previous output (zeros before the first
        real step, or always with `zero_output_for_mask`), as the step loop."""
        cell, chunk = self.cell, CHUNK
        shape = ops.shape(projected)
        batch, steps, features = shape[0], shape[1], projected.shape[-1]
        real = ops.ones((batch, steps), projected.dtype) if mask is None else ops.cast(mask, projected.dtype)
        if self.go_backwards:
            projected, real = ops.flip(projected, 1), ops.flip(real, 1)
        padding = (-steps) % chunk  # padded steps are masked: the identity
        projected = ops.pad(projected, [[0, 0], [0, padding], [0, 0]])
        real = ops.pad(real, [[0, 0], [0, padding]])
        chunks = (steps + padding) // chunk
        packed = ops.concatenate([ops.reshape(projected, (batch, chunks, chunk * features)),
                                  ops.reshape(real, (batch, chunks, chunk))], axis=-1)
        position = ops.arange(chunk)
        earlier = position[None, :] <= position[:, None]  # (t, s): s <= t
        zero_output = self.zero_output_for_mask

        def body(inputs, states):
            *states, previous = states
            block = ops.reshape(inputs[:, :chunk * features], (-1, chunk, features))
            block_real = inputs[:, chunk * features:]
            outputs, states = cell.run_chunk(block, block_real, states)
            if zero_output:
                outputs = outputs * block_real[..., None]
            else:  # each step's output is that of the last real step up to it (or the one carried in)
                marked = ops.where(block_real > 0.5, position[None, :], -1)  # (batch, s)
                last = ops.max(ops.where(earlier[None], marked[:, None, :], -1), axis=-1)  # (batch, t)
                taken = ops.take_along_axis(outputs, ops.maximum(last, 0)[..., None], axis=1)
                outputs = ops.where((last >= 0)[..., None], taken, previous[:, None, :])
            return ops.reshape(outputs, (-1, chunk * cell.output_size)), states + [outputs[:, -1]]

        start = list(initial_state) + [ops.zeros((batch, cell.output_size), projected.dtype)]
        _, outputs, states = keras_backend.rnn(body, packed, start)
        outputs = ops.reshape(outputs, (batch, chunks * chunk, cell.output_size))[:, :steps]
        return outputs[:, -1], outputs, states[:-1]

    def _scan(self, projected, initial_state, mask):
        """h_t = a_t h_{t-1} + b_t for all t (`linear_recurrence`); a masked
        step is the identity (1, 0). The outputs follow `backend.rnn`: processing
        order, a masked step repeats the previous output (zeros before the
        first real step, or always with `zero_output_for_mask`)."""
        a, b = self.cell.coefficients(projected)
        if mask is not None:
            real = ops.expand_dims(ops.cast(mask, a.dtype), -1)
            a = real * a + (1.0 - real)
            b = real * b
        if self.go_backwards:
            a, b = ops.flip(a, 1), ops.flip(b, 1)
        states = linear_recurrence(a, b, initial_state[0])
        outputs = states
        if mask is not None:
            real = ops.cast(mask, states.dtype)
            if self.go_backwards:
                real = ops.flip(real, 1)
            if self.zero_output_for_mask:
                outputs = states * ops.expand_dims(real, -1)
            else:  # zeros until the first real step, then the state (which a masked step keeps)
                outputs = states * ops.expand_dims(ops.cast(ops.cumsum(real, axis=1) > 0, states.dtype), -1)
        return outputs[:, -1], outputs, [states[:, -1]]

    def get_config(self):
        return {**super().get_config(), "parallel_scan": self.parallel_scan}


def block_conv_width(cell_name, block, conv_width, default=4):
    """The width of a block's convolution (`conv_width`), refused without
    the block, where the cell has no convolution."""
    if conv_width is None:
        return default
    if not block:
        raise ValueError(f"cell {cell_name!r}: `conv_width` is the width of its paper block's convolution; "
                         "pass block=True with it (the bare cell has no convolution).")
    return conv_width


def projected_layer(cell_name, cell, recurrent_dropout=0.0, **options):
    """The registered factories' common end: `ProjectedRNN(cell, **options)`.
    These cells have no recurrent matrix to drop out, so a nonzero
    `recurrent_dropout` is refused rather than ignored."""
    if recurrent_dropout:
        raise ValueError(f"cell {cell_name!r}: `recurrent_dropout` is not supported (got {recurrent_dropout}); "
                         "use `dropout`, which drops the inputs.")
    return ProjectedRNN(cell, **options)
