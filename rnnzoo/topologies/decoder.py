"""The decoder shared by `one_to_many` and `encoder_decoder`.

One function, `run_decoder`, wires the decoder (target embedding -> stacked
recurrent layers started from given states -> optional attention over an
encoder memory -> logits). The teacher-forced training graph and the one-step
inference graph both call it, on the same layers, looked up by name.
"""

import keras

from rnnzoo.data import END_ID, START_ID
from rnnzoo.layers.heads import default_loss, default_metrics
from rnnzoo.topologies.base import RNNModel
from rnnzoo.topologies.blocks import (
    check_choice,
    check_positive_int,
    make_recurrent_stack,
    run_recurrent_stack,
    state_sizes,
)

ATTENTION_KINDS = (None, "luong", "bahdanau")
DECODER_INPUT = "decoder_tokens"


def state_key(layer_index, state_index):
    return f"state_{layer_index}_{state_index}"


def make_decoder_layers(
    spec, *, vocab_size, embedding_dim, units, num_layers, dropout, recurrent_dropout,
    attention, attention_units, output_activation, cell_options,
):
    """Creates the decoder's layers, keyed by their names."""
    check_positive_int("vocab_size", vocab_size, minimum=2)
    check_positive_int("embedding_dim", embedding_dim)
    check_choice("attention", attention, ATTENTION_KINDS)
    if output_activation not in (None, "softmax"):
        raise ValueError(
            "`output_activation` must be None (logits) or 'softmax' for a "
            f"decoder, got {output_activation!r}."
        )
    layers = {
        "target_embedding": keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=True, name="target_embedding"
        )
    }
    for layer in make_recurrent_stack(
        spec, units=units, num_layers=num_layers, return_sequences=True,
        return_state=True, dropout=dropout, recurrent_dropout=recurrent_dropout,
        cell_options=cell_options, name="decoder_rnn",
    ):
        layers[layer.name] = layer
    if attention is not None:
        # Luong "general": score(h_t, h_s) = h_t^T W h_s (keys = W h_s).
        # Bahdanau: score = v^T tanh(W_q h_t + W_k h_s) with v the learned scale.
        key_size = units if attention == "luong" else attention_units or units
        check_positive_int("attention_units", key_size)
        layers["attention_key"] = keras.layers.Dense(
            key_size, use_bias=False, name="attention_key"
        )
        if attention == "luong":
            layers["attention"] = keras.layers.Attention(name="attention")
        else:
            layers["attention_query"] = keras.layers.Dense(
                key_size, use_bias=False, name="attention_query"
            )
            layers["attention"] = keras.layers.AdditiveAttention(name="attention")
        layers["attention_concat"] = keras.layers.Concatenate(name="attention_concat")
        layers["attention_output"] = keras.layers.Dense(
            units, activation="tanh", name="attention_output"
        )
    layers["output_dropout"] = keras.layers.Dropout(dropout, name="output_dropout")
    layers["logits"] = keras.layers.Dense(
        vocab_size, activation=output_activation, name="logits"
    )
    return layers


def run_decoder(
    get_layer, *, num_layers, attention, decoder_tokens, states, memory=None,
    memory_mask=None, memory_keys=None,
):
    """Runs the decoder from `states` (one list per layer). `memory_keys`
    (the attention keys of `memory`) may be given precomputed, so a
    step-by-step decoder projects the memory once, not at every step.

    Returns `(logits, new_states, attention_weights)`; the weights are None
    without attention, else `(batch, target_steps, memory_steps)`.
    """
    outputs = get_layer("target_embedding")(decoder_tokens)
    rnn_layers = [get_layer(f"decoder_rnn_{i}") for i in range(num_layers)]
    outputs, new_states = run_recurrent_stack(
        rnn_layers, outputs, initial_states=states, return_state=True
    )
    weights = None
    if attention is not None:
        keys = get_layer("attention_key")(memory) if memory_keys is None else memory_keys
        query = outputs
        if attention == "bahdanau":
            query = get_layer("attention_query")(outputs)
        context, weights = get_layer("attention")(
            [query, memory, keys], mask=[None, memory_mask], return_attention_scores=True
        )
        combined = get_layer("attention_concat")([context, outputs])
        outputs = get_layer("attention_output")(combined)
    outputs = get_layer("output_dropout")(outputs)
    return get_layer("logits")(outputs), new_states, weights


class SequenceGenerator(RNNModel):
    """Base of the topologies that generate a token sequence.

    The training model is teacher-forced: it takes the decoder input tokens
    (`decoder_tokens`, the target shifted right behind `START_ID`) and returns
    logits for every target step. Subclasses name the decoder's initial states
    `initial_state_{layer}_{k}`, and, with attention, the encoder memory
    `memory` and its padding mask `memory_mask`.
    """

    def default_loss(self):
        config = self._rnnzoo_config
        return default_loss(
            "classification", config["output_activation"], config["ignore_class"]
        )

    def default_metrics(self):
        return default_metrics("classification", self._rnnzoo_config["ignore_class"])

    def inference_models(self):
        """Returns `(encoder, step)`, two `keras.Model`s sharing this model's
        weights, built from its named layers.

        `encoder(source)` (the source tokens or features, or the image or
        feature vector) -> dict of `state_{layer}_{k}` tensors (plus `memory`,
        its attention keys `memory_keys` and `memory_mask` with attention). `step({"decoder_tokens": tokens,
        **states, **memory})` -> dict with `logits` `(batch, steps, vocab)`,
        the new `state_{layer}_{k}`, and `attention` weights with attention.
        """
        config = self._rnnzoo_config
        num_layers, attention = config["num_layers"], config["attention"]
        num_states = len(state_sizes(self.get_layer("decoder_rnn_0")))  # may depend on the cell's options
        (encoder_input,) = [
            tensor for name, tensor in self.input.items() if name != DECODER_INPUT
        ]
        encoder_outputs = {
            state_key(i, k): self.get_layer(f"initial_state_{i}_{k}").output
            for i in range(num_layers)
            for k in range(num_states)
        }
        if attention is not None:
            encoder_outputs["memory"] = self.get_layer("memory").output
            encoder_outputs["memory_mask"] = self.get_layer("memory_mask").output
            encoder_outputs["memory_keys"] = self.get_layer("attention_key")(encoder_outputs["memory"])
        encoder = keras.Model(encoder_input, encoder_outputs, name=f"{self.name}_encoder")

        step_inputs = {
            DECODER_INPUT: keras.Input((None,), dtype="int32", name=DECODER_INPUT)
        }
        for i in range(num_layers):
            for k, size in enumerate(state_sizes(self.get_layer(f"decoder_rnn_{i}"))):
                step_inputs[state_key(i, k)] = keras.Input((size,), name=state_key(i, k))
        memory = memory_mask = memory_keys = None
        if attention is not None:
            memory_shape = encoder_outputs["memory"].shape[1:]
            memory = step_inputs["memory"] = keras.Input(memory_shape, name="memory")
            memory_mask = step_inputs["memory_mask"] = keras.Input(
                (memory_shape[0],), dtype="bool", name="memory_mask"
            )
            memory_keys = step_inputs["memory_keys"] = keras.Input(
                encoder_outputs["memory_keys"].shape[1:], name="memory_keys"
            )
        states = [
            [step_inputs[state_key(i, k)] for k in range(num_states)]
            for i in range(num_layers)
        ]
        logits, new_states, weights = run_decoder(
            self.get_layer, num_layers=num_layers, attention=attention,
            decoder_tokens=step_inputs[DECODER_INPUT], states=states,
            memory=memory, memory_mask=memory_mask, memory_keys=memory_keys,
        )
        step_outputs = {"logits": logits}
        for i, layer_states in enumerate(new_states):
            for k, tensor in enumerate(layer_states):
                step_outputs[state_key(i, k)] = tensor
        if weights is not None:
            step_outputs["attention"] = weights
        step = keras.Model(step_inputs, step_outputs, name=f"{self.name}_step")
        # `memory` from the encoder model carries its Keras mask; the step
        # model takes the padding mask explicitly as `memory_mask`.
        step.supports_masking = True
        return encoder, step

    def generate(self, inputs, *, max_length, beam_size=1, length_penalty=0.0,
                 start_id=START_ID, end_id=END_ID):
        """Greedy (`beam_size=1`) or beam-search decoding of a batch, one
        compiled loop; see `rnnzoo.decoding.decode`."""
        from rnnzoo import decoding

        return decoding.decode(
            self, inputs, max_length=max_length, beam_size=beam_size,
            length_penalty=length_penalty, start_id=start_id, end_id=end_id,
        )
