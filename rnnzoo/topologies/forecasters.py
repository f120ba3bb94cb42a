"""Forecasters: a window of a multivariate series in, its next steps out,
with any registered cell.

`segment_rnn` is SegRNN (Lin et al. 2023, "SegRNN: Segment Recurrent Neural
Network for Long-Term Time Series Forecasting"). Each channel is forecast on
its own (channel independence) by one shared model:
1. the lookback window is cut into segments of `segment_length` steps, each
   embedded as a vector (a dense layer with ReLU);
2. the recurrent layer reads the segments (lookback / segment_length steps
   instead of lookback steps);
3. parallel multi-step decoding: every future segment starts from the final
   state, reading one vector, its position embedding next to its channel's
   embedding; one recurrent step per future segment, all at once;
4. a dense layer turns each output into `segment_length` values.

`direct_forecaster` is the plain recurrent baseline: a recurrent stack reads
the window step by step (all channels as features, or each channel alone
with `channel_independent=True`) and a dense layer emits every horizon step
at once from its last state (the "direct" multi-step strategy).

`seq2seq_forecaster` is the encoder-decoder: a recurrent stack reads the
window, and a decoder started from its final states forecasts one step at a
time, each step reading the value it forecast before (the "recursive"
strategy, in one `keras.layers.RNN` loop over a `FeedbackCell`, so it trains,
saves and exports like any recurrent layer).

`multiscale_forecaster` reads the window at two time scales (a
hierarchical RNN): each segment (a day of hourly steps) by an inner
recurrent encoder (`rnnzoo.layers.SegmentEncoder`), the sequence of segment
vectors by an outer stack, and a dense layer emits the horizon at once.

All of them normalize the window first: `"last"` subtracts its last value (SegRNN's
default), `"revin"` is reversible instance normalization (Kim et al.
2022: z-score each window per channel, a learned affine map, undone on the
forecast), `"scale"` divides each window by its mean absolute value and
multiplies the forecast back (DeepAR's scaling: one model for series of any
size, as global models across many series need); `None` leaves it as it is.

Covariates, for every forecaster: `covariates=K` adds an input `covariates`
`(batch, lookback + horizon, K)` of known features for each step of the
window and of the horizon (calendar: hour of day, day of week; planned
promotions), and `static_cardinalities=(n, ...)` an input `static`
`(batch, len(static_cardinalities))` of integer categories per example
(the series id: one model, a vector per series), each embedded in
`static_dim` values. Both reach the model where the series does: the
window's steps (or segments) read their covariates and the static vectors
beside their values, and what forecasts the horizon (the dense head, the
decoder's steps, SegRNN's future segments) reads the horizon's covariates
and the static vectors. Covariates are read as given: scale them first
(sine and cosine of the hour are already in [-1, 1]). `calendar_step_hours=h`
(the series' step in hours) adds an input `time` `(batch, 1)`, the hour
of each window's last step since 1970, from which the model computes the
hour of day and day of week of every step of the window and the horizon
(`rnnzoo.layers.CalendarFeatures`: four covariates after any given ones),
so that a served forecaster takes its window and one number.
"""

import keras
from keras import ops

from rnnzoo.cells.registry import get_cell
from rnnzoo.layers import CalendarFeatures, DilatedRNN, SegmentEncoder
from rnnzoo.layers.calendar import FEATURES as CALENDAR_FEATURES
from rnnzoo.topologies.base import RNNModel, constructor_arguments
from rnnzoo.topologies.blocks import (check_choice, check_positive_int, check_rate, make_recurrent_stack,
                                      run_recurrent_stack, state_sizes)

NORMALIZATIONS = (None, "last", "revin", "scale")
# A window whose mean absolute value is below this is divided by it instead (all zeros stays zeros).
MIN_WINDOW_SCALE = 1e-6


def window_scale(x):
    """Each window's mean absolute value per channel, `(batch, 1, channels)`
    (at least `MIN_WINDOW_SCALE`): the `"scale"` normalization's divisor."""
    return ops.maximum(ops.mean(ops.abs(x), axis=1, keepdims=True), MIN_WINDOW_SCALE)


class WindowForecastLayer(keras.layers.Layer):
    """Base of the forecasting layers: `(batch, lookback, channels)` ->
    `(batch, horizon, channels)`, with the window normalized first and the
    forecast restored to the window's scale (`normalization`: "last",
    "revin", "scale" or None; see the module)."""

    def __init__(self, lookback, horizon, channels, normalization="last", covariates=0, static_dim=0, **kwargs):
        super().__init__(**kwargs)
        self.lookback, self.horizon, self.channels, self.normalization = lookback, horizon, channels, normalization
        self.covariates, self.static_dim = int(covariates), int(static_dim)
        self.side = self.covariates + self.static_dim  # side features per step

    def side_features(self, covariates, static, repeat):
        """The side features of each row the model reads: the known
        covariates `(batch, lookback + horizon, K)` and the static vector
        `(batch, S)` repeated over the steps, each example's repeated for its
        `repeat` rows (its channels, when each channel is a row). Returns
        `(past (rows, lookback, K + S), future (rows, horizon, K + S))`, or
        `(None, None)` without side features."""
        parts = [] if not self.covariates else [covariates]
        if self.static_dim:
            parts.append(ops.repeat(ops.expand_dims(static, 1), self.lookback + self.horizon, axis=1))
        if not parts:
            return None, None
        side = parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)
        if repeat > 1:  # rows in (example, channel) order
            side = ops.repeat(side, repeat, axis=0)
        return side[:, : self.lookback], side[:, self.lookback:]

    def build_normalization(self):
        if self.normalization == "revin":
            self.affine_weight = self.add_weight(shape=(self.channels,), initializer="ones", name="revin_weight")
            self.affine_bias = self.add_weight(shape=(self.channels,), initializer="zeros", name="revin_bias")

    def _normalize(self, x):
        if self.normalization == "last":
            shift = x[:, -1:, :]
            return x - shift, (shift, None)
        if self.normalization == "revin":
            mean = ops.mean(x, axis=1, keepdims=True)
            std = ops.sqrt(ops.var(x, axis=1, keepdims=True) + 1e-5)
            return (x - mean) / std * self.affine_weight + self.affine_bias, (mean, std)
        if self.normalization == "scale":
            scale = window_scale(x)
            return x / scale, (None, scale)
        return x, (None, None)

    def _denormalize(self, y, stats):
        shift, std = stats
        if self.normalization == "last":
            return y + shift
        if self.normalization == "revin":
            return (y - self.affine_bias) / (self.affine_weight + 1e-10) * std + shift
        if self.normalization == "scale":
            return y * std
        return y

    def compute_output_shape(self, inputs_shape, covariates_shape=None, static_shape=None):
        return (inputs_shape[0], self.horizon, self.channels)

    def get_config(self):
        return {**super().get_config(), "lookback": self.lookback, "horizon": self.horizon,
                "channels": self.channels, "normalization": self.normalization, "covariates": self.covariates,
                "static_dim": self.static_dim}


@keras.saving.register_keras_serializable(package="rnnzoo")
class SegmentRecurrence(WindowForecastLayer):
    """SegRNN's computation; see the module."""

    def __init__(self, lookback, horizon, channels, segment_length, cell, units, dropout=0.0,
                 normalization="last", cell_options=None, **kwargs):
        super().__init__(lookback, horizon, channels, normalization, **kwargs)
        self.segment_length, self.cell, self.units, self.dropout = segment_length, cell, units, dropout
        self.cell_options = cell_options
        spec = get_cell(cell)
        self.embed = keras.layers.Dense(units, activation="relu", name="segment_embedding")
        self.recurrent = spec.build(units, return_sequences=False, return_state=True, name="recurrent",
                                    **(cell_options or {}))
        self.drop = keras.layers.Dropout(dropout)
        self.project = keras.layers.Dense(segment_length, name="segment_projection")
        # The future segments' side features, added to their decoder inputs.
        self.future_embed = keras.layers.Dense(units, name="future_embedding") if self.side else None

    def build(self, inputs_shape, covariates_shape=None, static_shape=None):
        half = self.units // 2
        segments_out = self.horizon // self.segment_length
        self.positions = self.add_weight(shape=(segments_out, self.units - half), name="position_embedding",
                                         initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.channel_embedding = self.add_weight(shape=(self.channels, half), name="channel_embedding",
                                                 initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.build_normalization()
        self.embed.build((None, self.segment_length * (1 + self.side)))
        self.recurrent.build((None, self.lookback // self.segment_length, self.units))
        self.project.build((None, self.units))
        if self.future_embed is not None:
            self.future_embed.build((None, self.segment_length * self.side))

    def call(self, inputs, covariates=None, static=None, training=None):
        x, stats = self._normalize(inputs)
        batch = ops.shape(x)[0]
        segments_in, segments_out = self.lookback // self.segment_length, self.horizon // self.segment_length
        channels, units = self.channels, self.units
        # (batch, lookback, channels) -> one row of segments per (example, channel)
        segments = ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, segments_in, self.segment_length))
        past, future = self.side_features(covariates, static, channels)
        if past is not None:  # each segment reads its steps' side features beside its values
            segments = ops.concatenate(
                [segments, ops.reshape(past, (-1, segments_in, self.segment_length * self.side))], axis=-1)
        result = self.recurrent(self.embed(segments), training=training)
        states = list(result[1:])
        # One decoder input per (example, channel, future segment): [position | channel] embeddings.
        positions = ops.broadcast_to(self.positions[None], (channels, segments_out, units - units // 2))
        channel = ops.broadcast_to(self.channel_embedding[:, None], (channels, segments_out, units // 2))
        queries = ops.concatenate([positions, channel], axis=-1)
        queries = ops.broadcast_to(queries[None], (batch, channels, segments_out, units))
        queries = ops.reshape(queries, (-1, 1, units))
        if future is not None:  # rows (example, channel, segment), as the queries
            queries = queries + self.future_embed(
                ops.reshape(future, (-1, 1, self.segment_length * self.side)))
        # Each state row repeated per future segment: rows in (example, channel, segment) order.
        repeated = [ops.repeat(state, segments_out, axis=0) for state in states]
        outputs = self.recurrent(queries, initial_state=repeated, training=training)[0]
        values = self.project(self.drop(outputs, training=training))  # (batch * channels * segments_out, segment)
        forecast = ops.transpose(ops.reshape(values, (batch, channels, self.horizon)), (0, 2, 1))
        return self._denormalize(forecast, stats)

    def get_config(self):
        return {**super().get_config(), "segment_length": self.segment_length, "cell": self.cell,
                "units": self.units, "dropout": self.dropout, "cell_options": self.cell_options}


class Forecaster(RNNModel):
    """Base of the forecasting topologies: `series` `(batch, lookback,
    channels)` in, `(batch, horizon, channels)` out, trained on MSE."""

    def default_loss(self):
        return "mse"

    def default_metrics(self):
        return ["mae"]


@keras.saving.register_keras_serializable(package="rnnzoo")
class SegmentRNN(Forecaster):
    """A window of a multivariate series in, the next steps out (SegRNN, Lin et al. 2023).

    Input: `series`, float `(batch, lookback, channels)`. Output: `(batch,
    horizon, channels)`, in the input's units. Loss: mean squared error.

    Args:
        lookback, horizon: steps read and forecast; both multiples of
            `segment_length`.
        channels: columns of the series (each forecast on its own, by the
            same weights).
        segment_length: steps per segment (SegRNN uses 24 or 48 for hourly
            data).
        cell: a registered cell name (SegRNN's is `gru`).
        units: the segment embedding and state size (SegRNN: 512).
        dropout: on the decoder's outputs before the projection.
        normalization: `"last"` (subtract the window's last value), `"revin"`,
            `"scale"` or None (see the module).
        cell_options: extra keyword arguments for the cell.
        covariates: known features per step, given for the window and the
            horizon (input `covariates`, `(batch, lookback + horizon,
            covariates)`); 0: none. See the module.
        static_cardinalities: the number of values of each static category
            (input `static`, int `(batch, len)`, e.g. `(414,)` for a series
            id); None: none.
        static_dim: the embedding size of each static category.
        calendar_step_hours: the series' step in hours: adds an input `time`
            `(batch, 1)` (the hour of each window's last step since 1970)
            and the hour-of-day and day-of-week covariates computed from it;
            None: none. See the module.
        compile: compile with Adam, MSE and MAE.
    """

    def __init__(self, lookback=96, horizon=96, channels=1, segment_length=24, cell="gru", units=512, dropout=0.5,
                 normalization="last", cell_options=None, covariates=0, static_cardinalities=None, static_dim=8,
                 calendar_step_hours=None, compile=True, **kwargs):
        config = constructor_arguments(locals())
        _check_window(lookback, horizon, channels, units, dropout, normalization)
        check_positive_int("segment_length", segment_length)
        for argument, value in (("lookback", lookback), ("horizon", horizon)):
            if value % segment_length:
                raise ValueError(f"`{argument}` ({value}) must be a multiple of `segment_length` "
                                 f"({segment_length}).")
        inputs, series, side = _forecaster_inputs(config)
        outputs = SegmentRecurrence(lookback, horizon, channels, segment_length, cell, units, dropout=dropout,
                                    normalization=normalization, cell_options=cell_options,
                                    covariates=_covariate_width(config), static_dim=_static_width(config),
                                    name="segment_recurrence")(series, **side)
        super().__init__(inputs=inputs, outputs=outputs, config=config, compile=compile, **kwargs)


def _check_window(lookback, horizon, channels, units, dropout, normalization):
    for argument, value in (("lookback", lookback), ("horizon", horizon), ("channels", channels)):
        check_positive_int(argument, value)
    check_positive_int("units", units, minimum=2)
    check_rate("dropout", dropout)
    check_choice("normalization", normalization, NORMALIZATIONS)


def _static_width(config):
    """Values of the static vector: `static_dim` per static category."""
    return len(config["static_cardinalities"] or ()) * config["static_dim"]


def _covariate_width(config):
    """Covariates per step: the given ones and the calendar's."""
    return config["covariates"] + (len(CALENDAR_FEATURES) if config.get("calendar_step_hours") else 0)


def _forecaster_inputs(config):
    """`(model inputs, the series input, the side inputs as keyword
    arguments of the forecasting layer)`: `series` alone, or a dict with
    `covariates` `(batch, lookback + horizon, covariates)`, `time` `(batch,
    1)` (the calendar's) and `static` `(batch, categories)` int32 (each
    category embedded in `static_dim` values and the embeddings
    concatenated)."""
    covariates, cardinalities = config["covariates"], list(config["static_cardinalities"] or ())
    step_hours = config.get("calendar_step_hours")
    check_positive_int("covariates", covariates, minimum=0)
    for cardinality in cardinalities:
        check_positive_int("static_cardinalities[i]", cardinality)
    if cardinalities:
        check_positive_int("static_dim", config["static_dim"])
    series = keras.Input((config["lookback"], config["channels"]), name="series")
    if not covariates and not cardinalities and not step_hours:
        return series, series, {}
    inputs, side = {"series": series}, {}
    if covariates:
        inputs["covariates"] = side["covariates"] = keras.Input(
            (config["lookback"] + config["horizon"], covariates), name="covariates")
    if step_hours:
        inputs["time"] = keras.Input((1,), name="time")
        calendar = CalendarFeatures(config["lookback"], config["horizon"], step_hours,
                                    name="calendar")(inputs["time"])
        side["covariates"] = (keras.layers.Concatenate(name="all_covariates")([side["covariates"], calendar])
                              if covariates else calendar)
    if cardinalities:
        inputs["static"] = keras.Input((len(cardinalities),), dtype="int32", name="static")
        vectors = [keras.layers.Embedding(cardinality, config["static_dim"], name=f"static_embedding_{index}")(
            inputs["static"][:, index]) for index, cardinality in enumerate(cardinalities)]
        side["static"] = vectors[0] if len(vectors) == 1 else keras.layers.Concatenate(name="static_vector")(vectors)
    return inputs, series, side


class StackRecurrence(WindowForecastLayer):
    """Base of the forecasters whose recurrent stack reads the window step
    by step: all channels as features, or with `channel_independent` each
    channel as its own sequence (rows `(example, channel)`), by the same
    weights."""

    def __init__(self, lookback, horizon, channels, cell, units, num_layers=1, dropout=0.0,
                 normalization="last", channel_independent=False, cell_options=None, **kwargs):
        super().__init__(lookback, horizon, channels, normalization, **kwargs)
        self.cell, self.units, self.num_layers, self.dropout = cell, units, num_layers, dropout
        self.channel_independent, self.cell_options = channel_independent, cell_options
        self.width = 1 if channel_independent else channels  # features per step of one row

    def to_rows(self, x):
        """`(batch, lookback, channels)` -> the sequences the stack reads."""
        if self.channel_independent:
            return ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, self.lookback, 1))
        return x

    def from_rows(self, values, batch):
        """Each row's `horizon * width` forecast values -> `(batch, horizon, channels)`."""
        if self.channel_independent:
            return ops.transpose(ops.reshape(values, (batch, self.channels, self.horizon)), (0, 2, 1))
        return ops.reshape(values, (batch, self.horizon, self.channels))

    def rows_and_side(self, x, covariates, static):
        """`(rows the stack reads, with the past side features beside the
        values, the rows' future side features (rows, horizon, K + S) or
        None)`."""
        rows = self.to_rows(x)
        past, future = self.side_features(covariates, static, self.channels if self.channel_independent else 1)
        return (rows if past is None else ops.concatenate([rows, past], axis=-1)), future

    def head_input(self, last_state, future):
        """The dense head's input: the last state, and the horizon's side
        features flattened."""
        if future is None:
            return last_state
        return ops.concatenate([last_state, ops.reshape(future, (-1, self.horizon * self.side))], axis=-1)

    def build_encoder(self, input_shape):
        self.build_normalization()
        for index, layer in enumerate(self.encoder):
            layer.build((None, self.lookback, self.width + self.side if index == 0 else self.units))

    def get_config(self):
        return {**super().get_config(), "cell": self.cell, "units": self.units, "num_layers": self.num_layers,
                "dropout": self.dropout, "channel_independent": self.channel_independent,
                "cell_options": self.cell_options}


@keras.saving.register_keras_serializable(package="rnnzoo")
class DirectRecurrence(StackRecurrence):
    """The direct forecaster's computation; see the module. With
    `dilations` (one per layer), each layer steps that many steps at a time
    (`DilatedRNN`); with `residual`, each layer after the first adds its
    input to its output."""

    def __init__(self, *args, dilations=None, residual=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.dilations = None if dilations is None else [int(d) for d in dilations]
        self.residual = bool(residual)
        stepped = self.dilations is not None or self.residual
        self.encoder = make_recurrent_stack(get_cell(self.cell), units=self.units, num_layers=self.num_layers,
                                            return_sequences=stepped, return_state=False, dropout=self.dropout,
                                            recurrent_dropout=0.0, cell_options=self.cell_options, name="encoder")
        if self.dilations is not None:
            self.encoder = [DilatedRNN(layer, dilation, name=f"dilated_{index}")
                            for index, (layer, dilation) in enumerate(zip(self.encoder, self.dilations))]
        self.head = keras.layers.Dense(self.horizon * self.width, name="head")

    def build(self, inputs_shape, covariates_shape=None, static_shape=None):
        self.build_encoder(inputs_shape)
        self.head.build((None, self.units + self.horizon * self.side))

    def call(self, inputs, covariates=None, static=None, training=None):
        x, stats = self._normalize(inputs)
        rows, future = self.rows_and_side(x, covariates, static)
        if self.dilations is None and not self.residual:
            last_state, _ = run_recurrent_stack(self.encoder, rows)  # `training` reaches the layers
        else:
            outputs = rows
            for index, layer in enumerate(self.encoder):
                found = layer(outputs, training=training)
                outputs = found + outputs if self.residual and index > 0 else found
            last_state = outputs[:, -1]
        values = self.head(self.head_input(last_state, future))
        return self._denormalize(self.from_rows(values, ops.shape(x)[0]), stats)

    def get_config(self):
        return {**super().get_config(), "dilations": self.dilations, "residual": self.residual}


@keras.saving.register_keras_serializable(package="rnnzoo")
class FeedbackCell(keras.layers.Layer):
    """One decoding step of the seq2seq forecaster: the previous step's
    forecast (carried as the last state) and the step's own input go through
    stacked recurrent cells, and a dense layer reads the next value.

    `cells` are any cells with the one-step contract `cell(x, states) ->
    (output, new_states)`; the state is `[*each cell's states, value]`."""

    def __init__(self, cells, width, **kwargs):
        super().__init__(**kwargs)
        self.cells, self.width = list(cells), width
        self.sizes = [state_sizes(cell) for cell in self.cells]
        self.state_size = [size for sizes in self.sizes for size in sizes] + [width]
        self.output_size = width
        self.project = keras.layers.Dense(width, name="value")

    def build(self, input_shape):
        features = input_shape[-1] + self.width
        for cell in self.cells:
            cell.build((None, features))
            features = cell.output_size
        self.project.build((None, features))

    def call(self, inputs, states, training=False):
        x = ops.concatenate([inputs, states[-1]], axis=-1)
        new_states, offset = [], 0
        for cell, sizes in zip(self.cells, self.sizes):
            cell_states = list(states[offset: offset + len(sizes)])
            offset += len(sizes)
            x, updated = cell(x, cell_states, training=training)
            new_states.extend(updated if isinstance(updated, (list, tuple)) else [updated])
        value = self.project(x)
        return value, new_states + [value]


@keras.saving.register_keras_serializable(package="rnnzoo")
class Seq2SeqRecurrence(StackRecurrence):
    """The seq2seq forecaster's computation; see the module."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        spec = get_cell(self.cell)
        self.encoder = make_recurrent_stack(spec, units=self.units, num_layers=self.num_layers,
                                            return_sequences=False, return_state=True, dropout=self.dropout,
                                            recurrent_dropout=0.0, cell_options=self.cell_options, name="encoder")
        cells = []
        for index in range(self.num_layers):
            layer = spec.build(self.units, return_sequences=True, return_state=False, name=f"decoder_{index}",
                               **(self.cell_options or {}))
            if not isinstance(getattr(layer, "cell", None), keras.layers.Layer):
                raise ValueError(f"cell {self.cell!r}: the seq2seq forecaster steps the decoder one step at a time, "
                                 f"so it needs a recurrent layer with a one-step `.cell`; got {type(layer).__name__}.")
            cells.append(layer.cell)
        self.decoder = keras.layers.RNN(FeedbackCell(cells, self.width, name="feedback"), return_sequences=True,
                                        name="decoder")

    def build(self, inputs_shape, covariates_shape=None, static_shape=None):
        self.build_encoder(inputs_shape)
        self.decoder.build((None, self.horizon, 1 + self.side))

    def call(self, inputs, covariates=None, static=None, training=None):
        x, stats = self._normalize(inputs)
        rows, future = self.rows_and_side(x, covariates, static)
        _, states = run_recurrent_stack(self.encoder, rows, return_state=True)
        # Each decoding step reads the previous value (the window's last one first), how far ahead it is and
        # its side features.
        count = ops.shape(rows)[0]
        ahead = ops.arange(1, self.horizon + 1, dtype=x.dtype) / self.horizon
        ahead = ops.broadcast_to(ops.reshape(ahead, (1, self.horizon, 1)), (count, self.horizon, 1))
        if future is not None:
            ahead = ops.concatenate([ahead, future], axis=-1)
        initial = [state for layer_states in states for state in layer_states] + [rows[:, -1, : self.width]]
        values = self.decoder(ahead, initial_state=initial, training=training)  # (rows, horizon, width)
        return self._denormalize(self.from_rows(values, ops.shape(x)[0]), stats)


@keras.saving.register_keras_serializable(package="rnnzoo")
class MultiscaleRecurrence(StackRecurrence):
    """The multiscale forecaster's computation: a `SegmentEncoder` reads
    each segment of the window (a day of hourly steps) into one vector, a
    recurrent stack reads the segment vectors (the days), and a dense layer
    emits the horizon from its last state."""

    def __init__(self, *args, segment_length=24, **kwargs):
        super().__init__(*args, **kwargs)
        self.segment_length = segment_length
        self.segments = SegmentEncoder(input_dim=self.width + self.side, units=self.units, cell=self.cell,
                                       bidirectional=False, dropout=self.dropout, cell_options=self.cell_options,
                                       mask_zero=False, name="segment_encoder")
        self.encoder = make_recurrent_stack(get_cell(self.cell), units=self.units, num_layers=self.num_layers,
                                            return_sequences=False, return_state=False, dropout=self.dropout,
                                            recurrent_dropout=0.0, cell_options=self.cell_options, name="encoder")
        self.head = keras.layers.Dense(self.horizon * self.width, name="head")

    def build(self, inputs_shape, covariates_shape=None, static_shape=None):
        self.build_normalization()
        count = self.lookback // self.segment_length
        self.segments.build((None, count, self.segment_length, self.width + self.side))
        for layer in self.encoder:
            layer.build((None, count, self.units))
        self.head.build((None, self.units + self.horizon * self.side))

    def call(self, inputs, covariates=None, static=None, training=None):
        x, stats = self._normalize(inputs)
        rows, future = self.rows_and_side(x, covariates, static)
        segments = ops.reshape(rows, (-1, self.lookback // self.segment_length, self.segment_length,
                                      self.width + self.side))
        last_state, _ = run_recurrent_stack(self.encoder, self.segments(segments, training=training))
        values = self.head(self.head_input(last_state, future))
        return self._denormalize(self.from_rows(values, ops.shape(x)[0]), stats)

    def get_config(self):
        return {**super().get_config(), "segment_length": self.segment_length}


def _stack_forecaster_graph(recurrence, name, config, **options):
    """`(inputs, outputs)` of a forecaster built on a `StackRecurrence`."""
    _check_window(config["lookback"], config["horizon"], config["channels"], config["units"], config["dropout"],
                  config["normalization"])
    check_positive_int("num_layers", config["num_layers"])
    inputs, series, side = _forecaster_inputs(config)
    outputs = recurrence(config["lookback"], config["horizon"], config["channels"], config["cell"], config["units"],
                         num_layers=config["num_layers"], dropout=config["dropout"],
                         normalization=config["normalization"],
                         channel_independent=bool(config["channel_independent"]),
                         cell_options=config["cell_options"], covariates=_covariate_width(config),
                         static_dim=_static_width(config), name=name, **options)(series, **side)
    return inputs, outputs


class StackForecaster(Forecaster):
    """Base of the forecasters built on a `StackRecurrence` (`recurrence`)."""

    recurrence = None
    recurrence_name = None

    def __init__(self, lookback=96, horizon=96, channels=1, cell="gru", units=128, num_layers=1, dropout=0.0,
                 normalization="last", channel_independent=False, cell_options=None, covariates=0,
                 static_cardinalities=None, static_dim=8, calendar_step_hours=None, compile=True, **kwargs):
        config = constructor_arguments(locals())
        inputs, outputs = _stack_forecaster_graph(self.recurrence, self.recurrence_name, config)
        super().__init__(inputs=inputs, outputs=outputs, config=config, compile=compile, **kwargs)


@keras.saving.register_keras_serializable(package="rnnzoo")
class DirectForecaster(StackForecaster):
    """A window of a multivariate series in, every next step out at once from a recurrent encoder's last state.

    Input: `series`, float `(batch, lookback, channels)`. Output: `(batch,
    horizon, channels)`, in the input's units. Loss: mean squared error.

    Args:
        lookback, horizon, channels: steps read, steps forecast, columns.
        cell, units, num_layers: the recurrent stack.
        dropout: input dropout of each recurrent layer.
        normalization: `"last"`, `"revin"`, `"scale"` or None (see the module).
        channel_independent: read each channel as its own sequence, by the
            same weights (no mixing of columns), instead of all at once.
        cell_options: extra keyword arguments for the cell.
        dilations: one per layer (e.g. `(1, 2, 4, 8)` with `num_layers=4`):
            layer i steps `dilations[i]` steps at a time (Chang et al. 2017,
            as ES-RNN stacks them); None: every layer steps one at a time.
        residual: each layer after the first adds its input to its output.
        covariates, static_cardinalities, static_dim, calendar_step_hours:
            known, static and calendar covariates, as `SegmentRNN`'s.
        compile: compile with Adam, MSE and MAE.
    """

    recurrence, recurrence_name = DirectRecurrence, "direct_recurrence"

    def __init__(self, lookback=96, horizon=96, channels=1, cell="gru", units=128, num_layers=1, dropout=0.0,
                 normalization="last", channel_independent=False, cell_options=None, dilations=None, residual=False,
                 covariates=0, static_cardinalities=None, static_dim=8, calendar_step_hours=None, compile=True,
                 **kwargs):
        config = constructor_arguments(locals())
        if dilations is not None:
            dilations = list(dilations)
            if len(dilations) != num_layers or any(not isinstance(d, int) or d < 1 for d in dilations):
                raise ValueError(f"`dilations` must hold one integer >= 1 per layer ({num_layers}), got "
                                 f"{dilations}.")
        inputs, outputs = _stack_forecaster_graph(self.recurrence, self.recurrence_name, config,
                                                  dilations=dilations, residual=residual)
        super(StackForecaster, self).__init__(inputs=inputs, outputs=outputs, config=config, compile=compile,
                                              **kwargs)


@keras.saving.register_keras_serializable(package="rnnzoo")
class Seq2SeqForecaster(StackForecaster):
    """A window of a multivariate series in; a recurrent encoder reads it and
    a recurrent decoder forecasts the horizon one step at a time, each step
    reading the value it forecast before.

    The decoder runs free (on its own forecasts) in training as in
    inference, so what it learns is what it will be asked to do; the loss
    covers the whole horizon. Input: `series`, float `(batch, lookback,
    channels)`. Output: `(batch, horizon, channels)`, in the input's units.

    Args: as `DirectForecaster`'s; `cell`, `units` and `num_layers` make
    both the encoder and the decoder (which starts from the encoder's final
    states), `dropout` is the encoder's input dropout.
    """

    recurrence, recurrence_name = Seq2SeqRecurrence, "seq2seq_recurrence"


@keras.saving.register_keras_serializable(package="rnnzoo")
class MultiscaleForecaster(Forecaster):
    """A window read at two time scales (a hierarchical RNN for series): an
    inner recurrent encoder reads each segment of `segment_length` steps (a
    day of hours) into one vector, an outer stack reads the segment vectors,
    and a dense layer emits every horizon step at once.

    Input: `series`, float `(batch, lookback, channels)`, `lookback` a
    multiple of `segment_length`. Output: `(batch, horizon, channels)`, in
    the input's units. Args as `DirectForecaster`'s, plus `segment_length`;
    `num_layers` is the outer stack's depth.
    """

    def __init__(self, lookback=96, horizon=96, channels=1, segment_length=24, cell="gru", units=128, num_layers=1,
                 dropout=0.0, normalization="last", channel_independent=False, cell_options=None, covariates=0,
                 static_cardinalities=None, static_dim=8, calendar_step_hours=None, compile=True, **kwargs):
        config = constructor_arguments(locals())
        check_positive_int("segment_length", segment_length)
        if lookback % segment_length:
            raise ValueError(f"`lookback` ({lookback}) must be a multiple of `segment_length` ({segment_length}).")
        inputs, outputs = _stack_forecaster_graph(MultiscaleRecurrence, "multiscale_recurrence", config,
                                                  segment_length=segment_length)
        super().__init__(inputs=inputs, outputs=outputs, config=config, compile=compile, **kwargs)

