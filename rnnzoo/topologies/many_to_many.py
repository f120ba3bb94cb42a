import keras
import numpy as np
from keras import ops

from rnnzoo.data import PAD_ID
from rnnzoo.layers.heads import HEADS, get_head, replica_share
from rnnzoo.topologies.base import RNNModel, constructor_arguments
from rnnzoo.topologies.blocks import check_choice, check_head, encoder_with_head, state_sizes


class _CellStep(keras.layers.Layer):
    """One step of a recurrent layer's cell, with its weights: `(inputs,
    states) -> (output, new_states)`; a `(batch, 1, features)` input is read
    as its single step. The input mask is dropped (a streamed step is real)."""

    def __init__(self, recurrent_layer, **kwargs):
        super().__init__(**kwargs)
        self.recurrent_layer = recurrent_layer
        self.supports_masking = True

    def call(self, inputs, states):
        if len(inputs.shape) == 3:
            inputs = inputs[:, 0]
        output, new_states = self.recurrent_layer.cell(inputs, list(states), training=False)
        return output, list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="rnnzoo")
class ManyToMany(RNNModel):
    """Synchronized many-to-many: one prediction per input step (tagging).

    Inputs as `ManyToOne` (`tokens` or `features`, right-padded, masked).
    Output: `(batch, time, num_classes)` logits. Labels equal to
    `ignore_class` (the padding id 0 by default; None counts every label) are
    left out of the default loss and accuracy, so label padding 0 and give
    real tags ids from 1.

    Args: as `ManyToOne`, without `task`/`num_outputs`, plus:
        ignore_class: the label id left out of loss and accuracy.
        char_vocab_size, char_embedding_dim, char_units: add a character
            encoder (inputs become a dict of `tokens` and `characters`
            `(batch, words, chars)`; see `rnnzoo.layers.CharacterEncoder`).
        output_layer: "softmax" (independent per-step logits), "crf" (a
            linear-chain CRF over the logits: the loss is its negative
            log-likelihood, `predict_tags` decodes with Viterbi) or "ctc"
            (connectionist temporal classification, Graves et al. 2006: the
            labels are a shorter unaligned sequence `(batch, label_time)`,
            right-padded with 0; class 0 is the CTC blank, so real labels
            are 1..num_classes-1; `ctc_decode(x)` decodes).
        conv_filters: 1-D convolutions over time before the recurrent
            layers (`rnnzoo.layers.ConvFrontEnd`), e.g. over spectrograms.
        string_embeddings: contextual string embeddings (Akbik et al.
            2018): a dict of `rnnzoo.layers.ContextualStringEmbeddings`
            options (the character language models' architecture) and
            `trainable` (default False: frozen); the inputs become a dict
            that also holds `context`, `word_starts` and `word_ends`. Copy
            the language models' weights in with the layer's
            `load_language_model` (`SequenceTagger` does).
        tag_names, crf_constraints: names of the tag ids and `"bio"` to
            forbid invalid BIO transitions in the CRF.
        embedding_dropout, locked_dropout, tie_embeddings,
            activation_regularization, temporal_activation_regularization:
            the AWD-LSTM regularizers of language models (Merity et al.
            2018; see `blocks.encoder_with_head`); with them, the `lstm` and
            `gru` cells' `weight_drop` option (`cell_options`) drops
            recurrent weights.
        stateful, batch_size: Keras stateful recurrent layers over a fixed
            batch of `batch_size` parallel streams: each call starts from
            the states the previous call ended with (truncated
            backpropagation through time, language models) until
            `reset_states()`. Unidirectional, token or feature inputs only.

    `predict_tags(x)` returns tag ids `(batch, time)` (0 at padding) for
    either output layer. `streaming_model()` returns a one-step model with
    the recurrent state as explicit inputs and outputs (on-device streaming,
    language models).
    """

    def __init__(
        self,
        vocab_size=None,
        input_dim=None,
        num_classes=2,
        cell="lstm",
        units=128,
        num_layers=1,
        bidirectional=False,
        merge_mode="concat",
        dropout=0.0,
        recurrent_dropout=0.0,
        embedding_dim=128,
        mask_zero=True,
        output_activation=None,
        ignore_class=PAD_ID,
        char_vocab_size=None,
        char_embedding_dim=25,
        char_units=25,
        output_layer="softmax",
        tag_names=None,
        crf_constraints=None,
        cell_options=None,
        stateful=False,
        batch_size=None,
        conv_filters=None,
        embedding_dropout=0.0,
        locked_dropout=False,
        tie_embeddings=False,
        activation_regularization=0.0,
        temporal_activation_regularization=0.0,
        string_embeddings=None,
        compile=True,
        **kwargs,
    ):
        config = constructor_arguments(locals())
        if stateful:
            if bidirectional:
                raise ValueError("stateful=True carries each stream's state forward in time; a bidirectional "
                                 "layer also reads backward. Use bidirectional=False.")
            if char_vocab_size is not None or string_embeddings is not None:
                raise ValueError("stateful=True does not support word features (`char_vocab_size`, "
                                 "`string_embeddings`).")
            if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
                raise ValueError(f"stateful=True needs `batch_size`, the fixed number of parallel streams "
                                 f"(an integer >= 1), got {batch_size!r}.")
            cell_options = {**(cell_options or {}), "stateful": True}
        check_head(
            task="classification", num_classes=num_classes, num_outputs=None,
            output_activation=output_activation,
        )
        inputs, outputs = encoder_with_head(
            per_step=True, head_size=num_classes, vocab_size=vocab_size,
            input_dim=input_dim, embedding_dim=embedding_dim, mask_zero=mask_zero,
            cell=cell, units=units, num_layers=num_layers, dropout=dropout,
            recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            merge_mode=merge_mode, output_activation=output_activation,
            cell_options=cell_options, char_vocab_size=char_vocab_size,
            char_embedding_dim=char_embedding_dim, char_units=char_units, batch_size=batch_size,
            conv_filters=conv_filters, embedding_dropout=embedding_dropout, locked_dropout=locked_dropout,
            tie_embeddings=tie_embeddings, activation_regularization=activation_regularization,
            temporal_activation_regularization=temporal_activation_regularization,
            string_embeddings=string_embeddings,
        )
        check_choice("output_layer", output_layer, tuple(HEADS))
        head = get_head(output_layer, num_classes=num_classes, output_activation=output_activation,
                        ignore_class=ignore_class, tag_names=tag_names, crf_constraints=crf_constraints)
        outputs = head.attach(outputs)
        object.__setattr__(self, "_head", head)  # before compiling (its loss); a plain object, not tracked
        super().__init__(inputs=inputs, outputs=outputs, config=config, compile=compile, **kwargs)

    def reset_states(self):
        """Zero the states of stateful recurrent layers (a new set of streams)."""
        for layer in self.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()

    def stateless_copy(self):
        """The same model without carried state and with a free batch size,
        sharing no variables (weights copied): what a stateful model is
        served, exported and sampled from."""
        # Not compiled: it is never trained, and a file with an optimizer that was never built warns on loading.
        config = {**self.get_config(), "stateful": False, "batch_size": None, "compile": False}
        config.pop("name", None)
        copy = type(self).from_config(config)
        copy.set_weights(self.get_weights())
        return copy

    @property
    def crf(self):
        """The CRF layer of a CRF head, else None."""
        return getattr(self.head, "crf", None)

    @property
    def head(self):
        """The output head object (`rnnzoo.layers.heads`): loss, metrics,
        decoding, probabilities."""
        return self._head

    def default_loss(self):
        return self.head.default_loss()

    def default_metrics(self):
        return self.head.default_metrics()

    def input_lengths(self, x):
        """Real steps per example: tokens other than 0, or feature vectors
        not all zero (the padding the model masks)."""
        inputs = x["tokens"] if isinstance(x, dict) else x
        real = ops.not_equal(inputs, 0)
        if len(real.shape) == 3:
            real = ops.any(real, axis=-1)
        return ops.sum(ops.cast(real, "int32"), axis=-1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = self.head.compute_loss(self, x, y, y_pred, sample_weight)
        if loss is None:  # the compiled loss
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        if self.losses:
            loss = loss + replica_share(ops.sum(ops.stack(self.losses)))
        return loss

    def decode(self, logits, mask):
        """Tag ids `(batch, time)` from the model's logits and a `(batch,
        time)` padding mask: Viterbi with a CRF, else the arg max over every
        label but `ignore_class` (the padding label is never predicted)."""
        return self.head.decode(logits, mask)

    def tag_probabilities(self, logits, mask):
        """Per-step tag probabilities: CRF marginals, else the softmax."""
        return self.head.probabilities(logits, mask)

    def ctc_decode(self, x, beam_width=None, batch_size=64):
        """Label sequences of a CTC model: a list (one per example) of lists
        of label ids (blanks and repeats removed), by best path (greedy) or
        by `keras.ops.ctc_decode`'s beam search when `beam_width` is given."""
        if not hasattr(self.head, "decode_sequences"):
            raise ValueError("ctc_decode needs output_layer='ctc'.")
        logits = self.predict(x, batch_size=batch_size, verbose=0)
        return self.head.decode_sequences(logits, ops.convert_to_numpy(self.input_lengths(x)), beam_width)

    def predict_tags(self, x, batch_size=64):
        """Tag ids `(batch, time)` as a NumPy array, 0 at padding."""
        tokens = x["tokens"] if isinstance(x, dict) else x
        logits = self.predict(x, batch_size=batch_size, verbose=0)
        mask = np.not_equal(np.asarray(tokens), PAD_ID)
        return np.asarray(ops.convert_to_numpy(self.decode(logits, mask)))

    def streaming_model(self):
        """A one-step `keras.Model` sharing this model's weights, for
        streaming inference (state carried by the caller between calls).

        Inputs: `tokens` `(batch, 1)` (or `features` `(batch, 1, dim)`),
        `characters` `(batch, 1, chars)` with a character encoder, and the
        states `state_{layer}_{k}` `(batch, units)` (zeros at the start of a
        sequence; an LSTM has h and c). Outputs: `logits` `(batch,
        num_classes)` for this step and the new `state_{layer}_{k}`. Feeding a
        sequence one step at a time gives the full model's per-step logits
        (the emissions, before any CRF decoding). Only unidirectional models
        stream: a bidirectional layer reads the future.
        """
        from rnnzoo.topologies.decoder import state_key

        config = self._rnnzoo_config
        if config["bidirectional"]:
            raise ValueError("streaming_model: this model is bidirectional, so each step's output depends on "
                             "later inputs; build it with bidirectional=False to stream.")
        inputs = {}
        if config["vocab_size"] is not None:
            inputs["tokens"] = keras.Input((1,), dtype="int32", name="tokens")
            sequence = self.get_layer("embedding")(inputs["tokens"])
        else:
            inputs["features"] = keras.Input((1, config["input_dim"]), name="features")
            sequence = inputs["features"]
        if config["char_vocab_size"] is not None:
            inputs["characters"] = keras.Input((1, None), dtype="int32", name="characters")
            sequence = self.get_layer("word_features")(
                [sequence, self.get_layer("character_encoder")(inputs["characters"])])
        step = sequence
        outputs = {}
        for index in range(config["num_layers"]):
            layer = self.get_layer(f"encoder_rnn_{index}")
            states = []
            for k, size in enumerate(state_sizes(layer)):
                name = state_key(index, k)
                inputs[name] = keras.Input((size,), name=name)
                states.append(inputs[name])
            step, new_states = _CellStep(layer, name=f"step_{index}")(step, states)
            for k, state in enumerate(new_states):
                outputs[state_key(index, k)] = state
        if config.get("tie_embeddings"):  # logits off the embedding matrix (`blocks.tied_head`)
            if any(layer.name == "tie_projection" for layer in self.layers):
                step = self.get_layer("tie_projection")(step)
            step = self.get_layer("embedding")(step, reverse=True)
        outputs = {"logits": self.get_layer("logits")(step), **outputs}
        return keras.Model(inputs, outputs, name=f"{self.name}_step")
