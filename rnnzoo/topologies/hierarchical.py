"""Hierarchical topology: segments of steps read at two time scales (HAN,
Yang et al. 2016): each segment into a vector, then the segment vectors."""

import keras
import numpy as np
from keras import ops

from rnnzoo.layers import AttentionPooling, SegmentEncoder, SequencePooling
from rnnzoo.layers.heads import default_loss, default_metrics
from rnnzoo.topologies.base import RNNModel, constructor_arguments
from rnnzoo.topologies.blocks import (
    POOLING,
    check_choice,
    check_head,
    check_one_input_kind,
    check_positive_int,
    check_recurrent_arguments,
    make_recurrent_stack,
    run_recurrent_stack,
)


@keras.saving.register_keras_serializable(package="rnnzoo")
class Hierarchical(RNNModel):
    """A sequence of segments in (a document's sentences of words, a
    sentence's words of characters, a series' days of hours), read at two
    time scales: an inner recurrent encoder turns every segment into one
    vector (`rnnzoo.layers.SegmentEncoder`), an outer one reads the sequence
    of segment vectors (Yang et al. 2016, Hierarchical Attention Networks).

    Inputs: token ids `(batch, segments, steps)` named `tokens` (0 is
    padding) when `vocab_size` is given, or floats `(batch, segments, steps,
    input_dim)` named `features` (all-zero steps are padding) when
    `input_dim` is given. Pad steps and segments on the right; a segment
    with no real step is padding. Padding never changes an answer.

    Output: `(batch, num_classes)` logits (or `(batch, num_outputs)` values
    for `task="regression"`); with `per_segment=True`, one output per
    segment `(batch, segments, ...)` (label padding segments with
    `ignore_class`, left out of the default loss and accuracy).

    Args:
        vocab_size / input_dim, task, num_classes, num_outputs,
        output_activation, embedding_dim: as `ManyToOne`.
        cell, units, num_layers, bidirectional, merge_mode, dropout,
            recurrent_dropout, cell_options: the outer (segment sequence)
            encoder, as `ManyToOne`.
        segment_cell, segment_units, segment_layers, segment_bidirectional:
            the inner encoder (default: the outer one's cell and units, one
            bidirectional layer).
        segment_pooling: how a segment's steps become its vector:
            "attention" (HAN's context vector), "last", "max" or "mean".
        pooling: how the segment vectors become the document's (ignored
            with `per_segment`): the same four choices.
        attention_units: size of the attention's hidden layer (default:
            the width of the states it reads).
        per_segment, ignore_class: a prediction per segment.
        compile: compile with default optimizer, loss and metrics.

    `attention_model()` returns a model sharing these weights whose outputs
    are the logits and, where pooling is "attention", the weights of each
    step in its segment (`step_attention`) and of each segment
    (`segment_attention`).
    """

    def __init__(
        self,
        vocab_size=None,
        input_dim=None,
        task="classification",
        num_classes=2,
        num_outputs=1,
        cell="gru",
        units=50,
        num_layers=1,
        bidirectional=True,
        merge_mode="concat",
        dropout=0.0,
        recurrent_dropout=0.0,
        embedding_dim=100,
        segment_cell=None,
        segment_units=None,
        segment_layers=1,
        segment_bidirectional=True,
        segment_pooling="attention",
        pooling="attention",
        attention_units=None,
        per_segment=False,
        ignore_class=0,
        output_activation=None,
        cell_options=None,
        compile=True,
        **kwargs,
    ):
        config = constructor_arguments(locals())
        spec = check_recurrent_arguments(
            cell=cell, units=units, num_layers=num_layers, dropout=dropout, recurrent_dropout=recurrent_dropout,
            bidirectional=bidirectional, merge_mode=merge_mode, cell_options=cell_options,
        )
        check_recurrent_arguments(
            cell=segment_cell or cell, units=segment_units or units, num_layers=segment_layers, dropout=dropout,
            recurrent_dropout=0.0, bidirectional=segment_bidirectional, merge_mode="concat", cell_options=None,
        )
        check_one_input_kind("vocab_size", vocab_size, "input_dim", input_dim)
        check_choice("segment_pooling", segment_pooling, POOLING)
        check_choice("pooling", pooling, POOLING)
        if vocab_size is not None:
            check_positive_int("embedding_dim", embedding_dim)
        head_size = check_head(task=task, num_classes=num_classes, num_outputs=num_outputs,
                               output_activation=output_activation)

        # === Layers ===
        segment_encoder = SegmentEncoder(
            vocab_size=vocab_size, input_dim=input_dim, embedding_dim=embedding_dim,
            units=segment_units or units, cell=segment_cell or cell, num_layers=segment_layers,
            bidirectional=segment_bidirectional, pooling=segment_pooling, attention_units=attention_units,
            dropout=dropout, cell_options=cell_options if (segment_cell or cell) == cell else None,
            name="segment_encoder",
        )
        sequence_output = per_segment or pooling != "last"
        outer_layers = make_recurrent_stack(
            spec, units=units, num_layers=num_layers, return_sequences=sequence_output, return_state=False,
            dropout=dropout, recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            merge_mode=merge_mode, cell_options=cell_options, name="segment_rnn",
        )
        segment_dropout = keras.layers.Dropout(dropout, name="segment_dropout")
        if per_segment or pooling == "last":
            document_pooling = None
        elif pooling == "attention":
            document_pooling = AttentionPooling(attention_units, name="segment_attention")
        else:
            document_pooling = SequencePooling(pooling, name="segment_pooling")
        head_dropout = keras.layers.Dropout(dropout, name="head_dropout")
        head = keras.layers.Dense(head_size, activation=output_activation, name="logits")

        # === Functional Model ===
        if vocab_size is not None:
            inputs = keras.Input(shape=(None, None), dtype="int32", name="tokens")
        else:
            inputs = keras.Input(shape=(None, None, input_dim), dtype="float32", name="features")
        segments = segment_dropout(segment_encoder(inputs))
        encoded, _ = run_recurrent_stack(outer_layers, segments)
        if document_pooling is not None:
            encoded = document_pooling(encoded)
        outputs = head(head_dropout(encoded))
        super().__init__(inputs=inputs, outputs=outputs, config=config, compile=compile, **kwargs)

    def default_loss(self):
        config = self._rnnzoo_config
        return default_loss(config["task"], config["output_activation"],
                            config["ignore_class"] if config["per_segment"] else None)

    def default_metrics(self):
        config = self._rnnzoo_config
        return default_metrics(config["task"], config["ignore_class"] if config["per_segment"] else None)

    def attention_model(self):
        """A `keras.Model` sharing this model's weights: the same input, and
        outputs `logits`, plus `step_attention` `(batch, segments, steps)`
        when segments are pooled by attention and `segment_attention`
        `(batch, segments)` when the document is (weights sum to 1 over real
        steps / segments and are 0 at padding)."""
        config = self._rnnzoo_config
        inputs = keras.Input(shape=self.inputs[0].shape[1:], dtype=self.inputs[0].dtype, name=self.inputs[0].name)
        encoder = self.get_layer("segment_encoder")
        outputs = {}
        if config["segment_pooling"] == "attention":
            segments, outputs["step_attention"] = _WithWeights(encoder, name="segment_encoder_weights")(inputs)
        else:
            segments = encoder(inputs)
        sequence = self.get_layer("segment_dropout")(segments)
        for index in range(config["num_layers"]):
            sequence = self.get_layer(f"segment_rnn_{index}")(sequence)
        if not config["per_segment"] and config["pooling"] == "attention":
            sequence, outputs["segment_attention"] = _WithWeights(
                self.get_layer("segment_attention"), name="segment_attention_weights")(sequence)
        elif not config["per_segment"] and config["pooling"] in ("max", "mean"):
            sequence = self.get_layer("segment_pooling")(sequence)
        outputs = {"logits": self.get_layer("logits")(self.get_layer("head_dropout")(sequence)), **outputs}
        return keras.Model(inputs, outputs, name=f"{self.name}_attention")

    def attention_weights(self, x):
        """NumPy `attention_model()` outputs for a batch `x`."""
        outputs = self.attention_model()(x, training=False)
        return {key: np.asarray(ops.convert_to_numpy(value)) for key, value in outputs.items()}


class _WithWeights(keras.layers.Layer):
    """Calls a pooling layer (or a segment encoder) with
    `return_weights=True` in a functional graph: `(outputs, weights)`; the
    encoder's outputs keep their segment mask."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if isinstance(self.layer, SegmentEncoder):
            return self.layer(inputs, return_weights=True)
        return self.layer(inputs, mask=mask, return_weights=True)

    def compute_mask(self, inputs, mask=None):
        if isinstance(self.layer, SegmentEncoder):
            return [self.layer.compute_mask(inputs), None]
        return [None, None]
