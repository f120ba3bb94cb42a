import keras

from rnnzoo.data import PAD_ID
from rnnzoo.layers import PaddingMask, ScheduledSampling
from rnnzoo.topologies.blocks import (
    bidirectional_width,
    check_one_input_kind,
    check_recurrent_arguments,
    make_recurrent_stack,
    merge_bidirectional_states,
    run_recurrent_stack,
    sequence_input,
    state_sizes,
)
from rnnzoo.topologies.base import constructor_arguments
from rnnzoo.topologies.decoder import (
    DECODER_INPUT,
    SequenceGenerator,
    make_decoder_layers,
    run_decoder,
)


@keras.saving.register_keras_serializable(package="rnnzoo")
class EncoderDecoder(SequenceGenerator):
    """Sequence to sequence of another length (translation), Sutskever et al.
    2014, with optional Luong (2015) or Bahdanau (2015) attention.

    Inputs (a dict): the source, `source_tokens` `(batch, source_time)` when
    `source_vocab_size` is given or `source_features` `(batch, source_time,
    source_input_dim)`; and `decoder_tokens` `(batch, target_time)`, the
    target shifted right behind `START_ID` (teacher forcing). Right-pad with 0.
    Output: `(batch, target_time, target_vocab_size)` logits.

    Each decoder layer starts from the final states of the matching encoder
    layer (forward and backward states merged like the outputs when
    `bidirectional`, so with `merge_mode="concat"` the decoder is
    `2 * units` wide). Attention, when asked for, reads the decoder outputs
    against the last encoder layer's outputs; the context and the decoder
    output are combined by a tanh layer before the logits (Luong et al.).

    `inference_models()` returns an encoder model and a one-step decoder model
    with explicit states; `generate()` decodes greedily with them.

    Args: `source_vocab_size` / `source_input_dim` (exactly one),
    `target_vocab_size`, `attention` (None, "luong", "bahdanau"),
    `attention_units` (Bahdanau score size; default the decoder width),
    `target_embedding_dim` (default `embedding_dim`), `ignore_class`,
    `scheduled_sampling` (train on a mix of true and predicted previous
    tokens, see `rnnzoo.layers.ScheduledSampling`; the decoder then runs
    twice per training step), and the recurrent arguments of `ManyToOne`.
    """

    def __init__(
        self,
        source_vocab_size=None,
        source_input_dim=None,
        target_vocab_size=None,
        cell="lstm",
        units=128,
        num_layers=1,
        bidirectional=False,
        merge_mode="concat",
        dropout=0.0,
        recurrent_dropout=0.0,
        embedding_dim=128,
        target_embedding_dim=None,
        attention=None,
        attention_units=None,
        scheduled_sampling=False,
        mask_zero=True,
        output_activation=None,
        ignore_class=PAD_ID,
        cell_options=None,
        compile=True,
        **kwargs,
    ):
        config = constructor_arguments(locals())
        spec = check_recurrent_arguments(
            cell=cell, units=units, num_layers=num_layers, dropout=dropout,
            recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            merge_mode=merge_mode, cell_options=cell_options,
        )
        check_one_input_kind(
            "source_vocab_size", source_vocab_size, "source_input_dim", source_input_dim
        )
        if target_vocab_size is None:
            raise ValueError("`target_vocab_size` is required (the output vocabulary).")
        decoder_units = bidirectional_width(units, bidirectional, merge_mode)

        # === Layers ===
        encoder_layers = make_recurrent_stack(
            spec, units=units, num_layers=num_layers, return_sequences=True,
            return_state=True, dropout=dropout, recurrent_dropout=recurrent_dropout,
            bidirectional=bidirectional, merge_mode=merge_mode,
            cell_options=cell_options, name="encoder_rnn",
        )
        decoder_layers = make_decoder_layers(
            spec, vocab_size=target_vocab_size,
            embedding_dim=target_embedding_dim or embedding_dim, units=decoder_units,
            num_layers=num_layers, dropout=dropout, recurrent_dropout=recurrent_dropout,
            attention=attention, attention_units=attention_units,
            output_activation=output_activation, cell_options=cell_options,
        )

        if bidirectional:  # the merged encoder states start the decoder: their sizes must agree
            merged = [2 * size if merge_mode == "concat" else size
                      for size in state_sizes(encoder_layers[0].forward_layer)]
            if merged != state_sizes(decoder_layers["decoder_rnn_0"]):
                raise ValueError(
                    f"cell {spec.name!r}: a bidirectional encoder's merged states (sizes {merged}) cannot start "
                    f"a decoder of {decoder_units} units (sizes {state_sizes(decoder_layers['decoder_rnn_0'])}), "
                    "since its states do not grow linearly with units; use bidirectional=False.")

        # === Functional Model ===
        source, embedded = sequence_input(
            vocab_size=source_vocab_size, input_dim=source_input_dim,
            embedding_dim=embedding_dim, mask_zero=mask_zero, prefix="source_",
        )
        decoder_tokens = keras.Input((None,), dtype="int32", name=DECODER_INPUT)
        encoded, states = run_recurrent_stack(encoder_layers, embedded, return_state=True)
        if bidirectional:
            states = merge_bidirectional_states(
                states, num_states=len(state_sizes(encoder_layers[0].forward_layer)), merge_mode=merge_mode,
                name="initial_state",
            )
        else:  # named, so the inference encoder can find them
            states = [
                [keras.layers.Identity(name=f"initial_state_{i}_{k}")(s) for k, s in enumerate(layer_states)]
                for i, layer_states in enumerate(states)
            ]
        memory = memory_mask = None
        if attention is not None:
            memory = keras.layers.Identity(name="memory")(encoded)
            memory_mask = PaddingMask(name="memory_mask")(memory)
        def decode(tokens):
            return run_decoder(
                decoder_layers.__getitem__, num_layers=num_layers, attention=attention,
                decoder_tokens=tokens, states=states, memory=memory, memory_mask=memory_mask,
            )[0]

        logits = decode(decoder_tokens)
        if scheduled_sampling:
            mixed = ScheduledSampling(name="scheduled_sampling")([decoder_tokens, logits])
            logits = decode(mixed)
        inputs = {source.name: source, DECODER_INPUT: decoder_tokens}
        super().__init__(inputs=inputs, outputs=logits, config=config, compile=compile, **kwargs)
