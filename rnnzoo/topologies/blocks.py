"""Building blocks shared by every topology: argument checks, the sequence
input (embedding or masked features), stacked (bi)recurrent layers, the
output head and the default losses. Each idea lives here once."""

import keras

from rnnzoo.cells import get_cell
from rnnzoo.layers import AttentionPooling, CharacterEncoder, ContextualStringEmbeddings, ConvFrontEnd, SequencePooling
from rnnzoo.layers.awd import ActivationRegularization, EmbeddingDropout, OutputBias
from rnnzoo.layers.awd import locked_dropout as locked_dropout_layer
from rnnzoo.layers.bidirectional import bidirectional as wrap_bidirectional

MERGE_MODES = ("concat", "sum", "mul", "ave")
TASKS = ("classification", "regression")
_STATE_MERGE_LAYERS = {
    "concat": keras.layers.Concatenate,
    "sum": keras.layers.Add,
    "mul": keras.layers.Multiply,
    "ave": keras.layers.Average,
}


# --- Argument checks ---------------------------------------------------------


def check_positive_int(argument, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{argument}` must be an integer >= {minimum}, got {value!r}.")
    return value


def check_rate(argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`{argument}` must be a float in [0, 1), got {value!r}.")
    return float(value)


def check_choice(argument, value, choices):
    if value not in choices:
        raise ValueError(
            f"`{argument}` must be one of {', '.join(map(repr, choices))}, got {value!r}."
        )
    return value


def check_recurrent_arguments(
    *, cell, units, num_layers, dropout, recurrent_dropout, bidirectional, merge_mode,
    cell_options,
):
    """Validates the arguments every topology shares; returns the `CellSpec`."""
    spec = get_cell(cell)
    check_positive_int("units", units)
    check_positive_int("num_layers", num_layers)
    check_rate("dropout", dropout)
    check_rate("recurrent_dropout", recurrent_dropout)
    if not isinstance(bidirectional, bool):
        raise ValueError(f"`bidirectional` must be True or False, got {bidirectional!r}.")
    if bidirectional:
        check_choice("merge_mode", merge_mode, MERGE_MODES)
    if cell_options is not None and not isinstance(cell_options, dict):
        raise ValueError(f"`cell_options` must be a dict or None, got {cell_options!r}.")
    return spec


def check_one_input_kind(vocab_argument, vocab_size, dim_argument, input_dim):
    """Exactly one of token ids (`vocab_size`) or float features (`input_dim`)."""
    if (vocab_size is None) == (input_dim is None):
        raise ValueError(
            f"Give exactly one of `{vocab_argument}` (token id inputs) or "
            f"`{dim_argument}` (float feature inputs); got {vocab_argument}="
            f"{vocab_size!r}, {dim_argument}={input_dim!r}."
        )
    if vocab_size is not None:
        check_positive_int(vocab_argument, vocab_size, minimum=2)
    else:
        check_positive_int(dim_argument, input_dim)


# --- Layers ------------------------------------------------------------------


def sequence_input(*, vocab_size, input_dim, embedding_dim, mask_zero, prefix="", batch_size=None,
                   reversible=False):
    """An input and its embedding: token ids -> `Embedding`, features -> `Masking`.
    `batch_size` fixes the batch dimension (stateful layers need it);
    `reversible` makes the embedding Keras' `ReversibleEmbedding` (the same
    weights), which can also map vectors back to token logits (tied input
    and output embeddings).

    Id 0 (or an all-zero feature vector) is padding and is masked when
    `mask_zero`; padding must be on the right for the cuDNN kernels.
    Returns `(input_tensor, embedded_sequence)`.
    """
    if vocab_size is not None:
        check_positive_int("embedding_dim", embedding_dim)
        inputs = keras.Input(shape=(None,), batch_size=batch_size, dtype="int32", name=f"{prefix}tokens")
        if reversible:  # as output weights too: Keras' default (uniform in +-0.05) makes logits learn slowly
            embedding = keras.layers.ReversibleEmbedding(
                vocab_size, embedding_dim, mask_zero=mask_zero, name=f"{prefix}embedding",
                embeddings_initializer=keras.initializers.RandomNormal(stddev=embedding_dim ** -0.5))
        else:
            embedding = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=mask_zero,
                                               name=f"{prefix}embedding")
        return inputs, embedding(inputs)
    inputs = keras.Input(shape=(None, input_dim), batch_size=batch_size, dtype="float32", name=f"{prefix}features")
    if not mask_zero:
        return inputs, inputs
    return inputs, keras.layers.Masking(mask_value=0.0, name=f"{prefix}masking")(inputs)


def make_recurrent_stack(
    spec, *, units, num_layers, return_sequences, return_state, dropout,
    recurrent_dropout, bidirectional=False, merge_mode="concat", cell_options=None,
    name,
):
    """`num_layers` recurrent layers named `{name}_{i}` (the wrapper when
    bidirectional). Inner layers return sequences; the last one returns
    sequences only if `return_sequences`."""
    layers = []
    for index in range(num_layers):
        is_last = index == num_layers - 1
        layer_name = f"{name}_{index}"
        layer = spec.build(
            units,
            return_sequences=return_sequences or not is_last,
            return_state=return_state,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            name=f"{layer_name}_layer" if bidirectional else layer_name,
            **(cell_options or {}),
        )
        if bidirectional:
            layer = wrap_bidirectional(layer, merge_mode=merge_mode, name=layer_name)
        layers.append(layer)
    return layers


def run_recurrent_stack(layers, inputs, *, initial_states=None, return_state=False):
    """Applies stacked layers; returns `(outputs, states)` with one list of
    state tensors per layer (forward then backward states when bidirectional;
    empty lists unless `return_state`)."""
    outputs, states = inputs, []
    for index, layer in enumerate(layers):
        if initial_states is None:
            result = layer(outputs)
        else:
            result = layer(outputs, initial_state=list(initial_states[index]))
        if return_state:
            outputs, layer_states = result[0], list(result[1:])
        else:
            outputs, layer_states = result, []
        states.append(layer_states)
    return outputs, states


def state_sizes(layer):
    """The widths of a recurrent layer's (or cell's) states, in order; not
    always `units` (a QRNN's second state is wider)."""
    sizes = getattr(layer, "cell", layer).state_size
    return [int(size) for size in sizes] if isinstance(sizes, (list, tuple)) else [int(sizes)]


def merge_bidirectional_states(states, *, num_states, merge_mode, name):
    """Merges each forward state with its backward twin the way the outputs
    are merged, so an encoder's states can initialize a decoder."""
    merged = []
    for layer_index, layer_states in enumerate(states):
        forward, backward = layer_states[:num_states], layer_states[num_states:]
        merged.append([
            _STATE_MERGE_LAYERS[merge_mode](name=f"{name}_{layer_index}_{k}")([f, b])
            for k, (f, b) in enumerate(zip(forward, backward))
        ])
    return merged


def bidirectional_width(units, bidirectional, merge_mode):
    """Feature size of a (bi)recurrent layer's outputs."""
    return 2 * units if bidirectional and merge_mode == "concat" else units


# --- Heads and losses --------------------------------------------------------


def check_head(*, task, num_classes, num_outputs, output_activation):
    """Validates the output head; returns its size."""
    check_choice("task", task, TASKS)
    if task == "classification":
        check_positive_int("num_classes", num_classes, minimum=2)
        if output_activation not in (None, "softmax"):
            raise ValueError(
                "`output_activation` must be None (logits) or 'softmax' for "
                f"classification, got {output_activation!r}."
            )
        return num_classes
    check_positive_int("num_outputs", num_outputs)
    return num_outputs


# --- Encoder with an output head (many_to_one, many_to_many) -----------------


POOLING = ("last", "attention", "max", "mean", "concat")


def encoder_with_head(
    *, per_step, head_size, vocab_size, input_dim, embedding_dim, mask_zero, cell,
    units, num_layers, dropout, recurrent_dropout, bidirectional, merge_mode,
    output_activation, cell_options, char_vocab_size=None, char_embedding_dim=25,
    char_units=25, batch_size=None, conv_filters=None, pooling="last", embedding_dropout=0.0,
    locked_dropout=False, tie_embeddings=False, activation_regularization=0.0,
    temporal_activation_regularization=0.0, string_embeddings=None,
):
    """The graph of a recurrent encoder read out by a dense head: at every
    step (`per_step=True`, tagging) or once per sequence (sequence labels),
    from the final state (`pooling="last"`), attention over the last
    layer's outputs (`"attention"`, `AttentionPooling`) or their max or mean
    over the real steps (`"max"`, `"mean"`), or all three of the last real
    step, max and mean side by side (`"concat"`, ULMFiT's concat pooling).

    With `char_vocab_size`, the inputs are a dict of `tokens` `(batch, words)`
    and `characters` `(batch, words, chars)`, and each word's embedding is
    joined by a `CharacterEncoder` vector of its characters. With
    `string_embeddings` (the options of `ContextualStringEmbeddings`, plus
    `trainable`, False by default: frozen language models), the inputs also
    hold `context` `(batch, chars)`, `word_starts` and `word_ends` `(batch,
    words)`, and each word is also joined by the character language models'
    states at its ends (contextual string embeddings). `conv_filters`
    puts a `ConvFrontEnd` (1-D convolutions over time) before the recurrent
    layers. The AWD-LSTM regularizers (`rnnzoo.layers.awd`; language
    models): `embedding_dropout` drops whole words, `locked_dropout` makes
    the head's dropout one mask per sequence, `tie_embeddings` reads the
    per-step logits off the (reversible) embedding matrix (through a linear
    `tie_projection` when the encoder's width differs from
    `embedding_dim`), and `activation_regularization` (AR, alpha) and
    `temporal_activation_regularization` (TAR, beta) penalize the last
    layer's outputs. Returns `(inputs, outputs)`."""
    spec = check_recurrent_arguments(
        cell=cell, units=units, num_layers=num_layers, dropout=dropout,
        recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
        merge_mode=merge_mode, cell_options=cell_options,
    )
    check_one_input_kind("vocab_size", vocab_size, "input_dim", input_dim)
    check_choice("pooling", pooling, POOLING)
    if per_step and pooling != "last":
        raise ValueError(f"`pooling` reads one vector per sequence; a per-step output takes none, got {pooling!r}.")
    check_rate("embedding_dropout", embedding_dropout)
    if (embedding_dropout or tie_embeddings) and vocab_size is None:
        raise ValueError("`embedding_dropout` and `tie_embeddings` need token inputs (`vocab_size`).")
    if tie_embeddings and not (per_step and head_size == vocab_size):
        raise ValueError(f"`tie_embeddings` predicts tokens at every step: it needs per-step outputs over the "
                         f"input vocabulary (num_classes == vocab_size), got {head_size} classes and vocab_size "
                         f"{vocab_size}.")
    if locked_dropout and not per_step:
        raise ValueError("`locked_dropout` shares one mask over the steps of per-step outputs; a sequence label "
                         "has one step.")
    if char_vocab_size is not None:
        if vocab_size is None:
            raise ValueError("`char_vocab_size` needs token inputs (`vocab_size`), not `input_dim`.")
        check_positive_int("char_vocab_size", char_vocab_size, minimum=2)
        check_positive_int("char_embedding_dim", char_embedding_dim)
        check_positive_int("char_units", char_units)
    if string_embeddings is not None:
        if vocab_size is None:
            raise ValueError("`string_embeddings` needs token inputs (`vocab_size`), not `input_dim`.")
        if not isinstance(string_embeddings, dict):
            raise ValueError(f"`string_embeddings` must be a dict of `ContextualStringEmbeddings` options, got "
                             f"{string_embeddings!r}.")

    # === Layers ===
    rnn_layers = make_recurrent_stack(
        spec, units=units, num_layers=num_layers, return_sequences=per_step or pooling != "last",
        return_state=False, dropout=dropout, recurrent_dropout=recurrent_dropout,
        bidirectional=bidirectional, merge_mode=merge_mode, cell_options=cell_options,
        name="encoder_rnn",
    )
    head_dropout = (locked_dropout_layer(dropout, name="head_dropout") if locked_dropout
                    else keras.layers.Dropout(dropout, name="head_dropout"))
    width = bidirectional_width(units, bidirectional, merge_mode)
    regularization = (ActivationRegularization(activation_regularization, temporal_activation_regularization,
                                               name="activation_regularization")
                      if activation_regularization or temporal_activation_regularization else None)

    # === Functional Model ===
    # (Layers are made in the order they always were: the order draws their initial weights.)
    head = None if tie_embeddings else keras.layers.Dense(head_size, activation=output_activation, name="logits")
    inputs, sequence = sequence_input(
        vocab_size=vocab_size, input_dim=input_dim, embedding_dim=embedding_dim,
        mask_zero=mask_zero, batch_size=batch_size, reversible=tie_embeddings,
    )
    if tie_embeddings:
        head = tied_head(sequence._keras_history.operation, width, embedding_dim, output_activation)
    if embedding_dropout:
        sequence = EmbeddingDropout(vocab_size, embedding_dropout, name="embedding_dropout")(sequence, ids=inputs)
    if char_vocab_size is not None:
        characters = keras.Input(shape=(None, None), dtype="int32", name="characters")
        char_encoder = CharacterEncoder(
            char_vocab_size, char_embedding_dim, char_units, cell=cell, name="character_encoder"
        )
        sequence = keras.layers.Concatenate(name="word_features")([sequence, char_encoder(characters)])
        inputs = {"tokens": inputs, "characters": characters}
    if string_embeddings is not None:
        sequence, inputs = add_string_embeddings(sequence, inputs, string_embeddings)
    if conv_filters:
        for filters in conv_filters:
            check_positive_int("conv_filters", filters)
        sequence = ConvFrontEnd(conv_filters, name="conv_front_end")(sequence)
    encoded, _ = run_recurrent_stack(rnn_layers, sequence)
    if regularization is not None:
        encoded = regularization(encoded)
    if pooling == "attention":
        encoded = AttentionPooling(name="pooling")(encoded)
    elif pooling == "concat":  # ULMFiT's concat pooling: the last step, the max and the mean
        encoded = keras.layers.Concatenate(name="pooling")(
            [SequencePooling(mode, name=f"{mode}_pooling")(encoded) for mode in ("last", "max", "mean")])
    elif pooling != "last":
        encoded = SequencePooling(pooling, name="pooling")(encoded)
    return inputs, head(head_dropout(encoded))


def add_string_embeddings(sequence, inputs, options):
    """`(sequence, inputs)` joined by `ContextualStringEmbeddings` features
    (`options`: the layer's, and `trainable`) read from the new inputs
    `context`, `word_starts` and `word_ends`."""
    options = dict(options)
    trainable = options.pop("trainable", False)
    try:
        layer = ContextualStringEmbeddings(**options, trainable=trainable, name="string_embeddings")
    except TypeError as error:
        raise ValueError(f"`string_embeddings`: {error}") from None
    context = keras.Input(shape=(None,), dtype="int32", name="context")
    starts = keras.Input(shape=(None,), dtype="int32", name="word_starts")
    ends = keras.Input(shape=(None,), dtype="int32", name="word_ends")
    features = layer({"context": context, "word_starts": starts, "word_ends": ends})
    sequence = keras.layers.Concatenate(name="string_features")([sequence, features])
    inputs = inputs if isinstance(inputs, dict) else {"tokens": inputs}
    return sequence, {**inputs, "context": context, "word_starts": starts, "word_ends": ends}


def tied_head(embedding, width, embedding_dim, output_activation=None):
    """Per-step logits read off a `ReversibleEmbedding`'s matrix (tied input
    and output embeddings, Press & Wolf 2017; Inan et al. 2017): `(batch,
    time, width) -> (batch, time, vocab_size)`, through a linear
    `tie_projection` to `embedding_dim` when `width` differs, plus a bias per
    token (`OutputBias`, named `logits` as the untied head's `Dense`)."""
    projection = (keras.layers.Dense(embedding_dim, use_bias=False, name="tie_projection")
                  if width != embedding_dim else None)
    bias = OutputBias(output_activation, name="logits")

    def head(outputs):
        if projection is not None:
            outputs = projection(outputs)
        return bias(embedding(outputs, reverse=True))

    return head
