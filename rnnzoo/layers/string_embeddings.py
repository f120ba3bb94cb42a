"""Contextual string embeddings (Akbik et al. 2018, "Flair"): character
language models read the whole sentence, and each word is the forward
model's state after its last character and the backward model's state
after reading (right to left) its first character."""

import keras
from keras import ops

from rnnzoo.cells import get_cell
from rnnzoo.data.special_tokens import PAD_ID

DIRECTIONS = ("forward", "backward")


def gather_steps(values, positions):
    """`values[b, positions[b, k]]`: `(batch, time, features)` and `(batch,
    k)` int positions (clipped to the steps there are) -> `(batch, k,
    features)`. (A gather on the flattened steps: ONNX has no
    `take_along_axis`.)"""
    shape = ops.shape(values)
    positions = ops.clip(ops.cast(positions, "int32"), 0, ops.cast(shape[1], "int32") - 1)
    offsets = ops.arange(shape[0], dtype="int32")[:, None] * ops.cast(shape[1], "int32")
    rows = ops.take(ops.reshape(values, (-1, shape[2])), ops.reshape(positions + offsets, (-1,)), axis=0)
    return ops.reshape(rows, (shape[0], ops.shape(positions)[1], shape[2]))


def reverse_rows(ids, lengths):
    """Each row's first `lengths[b]` ids in reverse order, padding kept on
    the right: `(batch, time)` -> `(batch, time)`."""
    steps = ops.arange(ops.shape(ids)[1], dtype="int32")[None, :]
    lengths = ops.cast(lengths, "int32")[:, None]
    order = ops.where(steps < lengths, lengths - 1 - steps, steps)
    return gather_steps(ids[:, :, None], order)[:, :, 0]


@keras.saving.register_keras_serializable(package="rnnzoo")
class ContextualStringEmbeddings(keras.layers.Layer):
    """Per-word features from character language models that read the
    whole sentence: a dict of `context`, `word_starts` and `word_ends` ->
    `(batch, words, units * len(directions))`.

    `context` `(batch, chars)` holds a sentence's character ids (in the
    language models' vocabulary, 0 padding on the right), `word_starts` and
    `word_ends` `(batch, words)` the positions in it of each word's first
    and last character. The context starts with a separator (the tagger's
    preprocessor writes a line break), so no word ends at position 0:
    padding words (positions 0) are masked. The `"forward"` model gives the
    state after reading the word's last character (the word and what
    precedes it); the `"backward"` model reads the sentence right to left
    and gives its state after the word's first character (the word and what
    follows it).

    Each direction is a language model's embedding and recurrent stack
    (`vocab_size`, `embedding_dim`, `cell`, `units`, `num_layers`,
    `cell_options`: as the `rnnzoo.build_model` options that built it), with
    weights copied in by `load_language_model`. Freeze the layer
    (`trainable=False`) to use the language models as fixed features, as
    Flair does; leave it trainable to fine-tune them with the task.
    """

    def __init__(self, vocab_size, embedding_dim, units, num_layers=1, cell="lstm", cell_options=None,
                 directions=DIRECTIONS, trainable=True, **kwargs):
        super().__init__(**kwargs)
        directions = tuple(directions)
        if not directions or len(set(directions)) != len(directions) or set(directions) - set(DIRECTIONS):
            raise ValueError(f"ContextualStringEmbeddings: `directions` must be some of {DIRECTIONS}, once each; "
                             f"got {directions!r}.")
        self.vocab_size, self.embedding_dim, self.units, self.num_layers = vocab_size, embedding_dim, units, num_layers
        self.cell, self.directions = cell, directions
        # Training-time noise of the pretraining (weight drop) and carried state do not belong to a feature reader.
        self.cell_options = {k: v for k, v in (cell_options or {}).items() if k not in ("stateful", "weight_drop")}
        self.supports_masking = True
        spec = get_cell(cell)
        for direction in directions:  # attributes `forward_embedding`, `forward_rnn` (a list), ...: the weights' paths
            setattr(self, f"{direction}_embedding",
                    keras.layers.Embedding(vocab_size, embedding_dim, name=f"{direction}_embedding"))
            setattr(self, f"{direction}_rnn", [
                spec.build(units, return_sequences=True, return_state=False, name=f"{direction}_rnn_{index}",
                           **self.cell_options) for index in range(num_layers)])
        self.trainable = trainable  # set after the sublayers exist, so that it reaches them

    def _direction_layers(self, direction):
        return getattr(self, f"{direction}_embedding"), getattr(self, f"{direction}_rnn")

    @property
    def width(self):
        return self.units * len(self.directions)

    def build(self, input_shape):
        for direction in self.directions:
            embedding, stack = self._direction_layers(direction)
            embedding.build((None, None))
            for index, layer in enumerate(stack):
                layer.build((None, None, self.units if index else self.embedding_dim))

    def states(self, direction, ids):
        """The language model's last-layer outputs at every step of `ids`."""
        embedding, stack = self._direction_layers(direction)
        outputs = embedding(ids)
        for layer in stack:
            outputs = layer(outputs)
        return outputs

    def call(self, inputs):
        context, word_starts, word_ends = (inputs[name] for name in ("context", "word_starts", "word_ends"))
        context = ops.cast(context, "int32")
        lengths = ops.sum(ops.cast(ops.not_equal(context, PAD_ID), "int32"), axis=1)
        features = []
        for direction in self.directions:
            if direction == "forward":
                ids, positions = context, ops.cast(word_ends, "int32")
            else:
                ids = reverse_rows(context, lengths)
                positions = ops.maximum(lengths[:, None] - 1 - ops.cast(word_starts, "int32"), 0)
            states = self.states(direction, ids)
            features.append(gather_steps(states, positions))
        return features[0] if len(features) == 1 else ops.concatenate(features, axis=-1)

    def compute_mask(self, inputs, mask=None):
        # Keras joins masks with "any" (`Concatenate`), so the word features this joins need this one.
        return ops.greater(inputs["word_ends"], 0)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape["word_ends"]), self.width)

    def load_language_model(self, direction, model):
        """Copies a language model's (`many_to_many`) `embedding` and
        `encoder_rnn_{i}` weights into `direction`'s layers; raises when
        the shapes differ (build this layer with the language model's
        options). Returns the layer names copied."""
        embedding, stack = self._direction_layers(direction)
        pairs = [("embedding", embedding)] + [(f"encoder_rnn_{i}", layer) for i, layer in enumerate(stack)]
        for name, target in pairs:
            source = model.get_layer(name).get_weights()
            if [tuple(w.shape) for w in source] != [tuple(w.shape) for w in target.weights]:
                raise ValueError(f"{direction} language model, layer {name!r}: weights of shapes "
                                 f"{[tuple(w.shape) for w in source]}, expected "
                                 f"{[tuple(w.shape) for w in target.weights]}.")
            target.set_weights(source)
        return [name for name, _ in pairs]

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "units": self.units, "num_layers": self.num_layers, "cell": self.cell,
                "cell_options": self.cell_options or None, "directions": list(self.directions)}
