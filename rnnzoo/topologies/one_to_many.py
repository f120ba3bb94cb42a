import keras

from rnnzoo.data import PAD_ID
from rnnzoo.layers import ImageAugmentation, PaddingMask
from rnnzoo.topologies.base import constructor_arguments
from rnnzoo.topologies.blocks import check_positive_int, check_recurrent_arguments
from rnnzoo.topologies.decoder import (
    DECODER_INPUT,
    SequenceGenerator,
    make_decoder_layers,
    run_decoder,
)


@keras.saving.register_keras_serializable(package="rnnzoo")
class OneToMany(SequenceGenerator):
    """One input vector to a token sequence (captioning), Show and Tell style.

    Inputs (a dict): `features` `(batch, input_dim)` when `input_dim` is
    given, or `image` `(batch, *image_shape)` encoded by a small CNN
    (`cnn_filters`: one 3x3 conv + 2x2 max-pool block per entry) when
    `image_shape` is given; and `decoder_tokens` `(batch, time)`, the caption
    shifted right behind `START_ID` (teacher forcing).
    Output: `(batch, time, vocab_size)` logits.

    The decoder's initial states are tanh projections of the input vector
    (the CNN's pooled features for images). With `attention` (images only),
    each decoder step also attends over the CNN feature map (Show, Attend and
    Tell). There is no recurrent encoder, so `bidirectional` must stay False.

    `image_augmentation`, e.g. `{"translation": 0.1, "zoom": 0.1, "rotation":
    0.02}` (fractions of the image size, and of a full turn), puts Keras'
    random translation / zoom / rotation layers before the CNN
    (`rnnzoo.layers.ImageAugmentation`); they act only in training.
    """

    def __init__(
        self,
        vocab_size=None,
        input_dim=None,
        image_shape=None,
        cnn_filters=(32, 64),
        image_augmentation=None,
        cell="lstm",
        units=128,
        num_layers=1,
        bidirectional=False,
        merge_mode="concat",
        dropout=0.0,
        recurrent_dropout=0.0,
        embedding_dim=128,
        attention=None,
        attention_units=None,
        output_activation=None,
        ignore_class=PAD_ID,
        cell_options=None,
        compile=True,
        **kwargs,
    ):
        image_shape = None if image_shape is None else list(image_shape)
        cnn_filters = list(cnn_filters)
        config = constructor_arguments(locals())
        spec = check_recurrent_arguments(
            cell=cell, units=units, num_layers=num_layers, dropout=dropout,
            recurrent_dropout=recurrent_dropout, bidirectional=bidirectional,
            merge_mode=merge_mode, cell_options=cell_options,
        )
        if bidirectional:
            raise ValueError(
                "`bidirectional=True` needs a recurrent encoder; 'one_to_many' "
                "encodes a single vector and generates left to right."
            )
        if vocab_size is None:
            raise ValueError("`vocab_size` is required (the output vocabulary).")
        if (input_dim is None) == (image_shape is None):
            raise ValueError(
                "Give exactly one of `input_dim` (a feature vector input) or "
                f"`image_shape` (an image input); got input_dim={input_dim!r}, "
                f"image_shape={image_shape!r}."
            )
        if input_dim is not None:
            check_positive_int("input_dim", input_dim)
            if attention is not None:
                raise ValueError(
                    "`attention` needs something to attend over: use `image_shape` "
                    "(attention over the CNN feature map), not `input_dim`."
                )
        elif len(image_shape) != 3 or not all(isinstance(d, int) and d > 0 for d in image_shape):
            raise ValueError(
                f"`image_shape` must be (height, width, channels), got {image_shape!r}."
            )
        for filters in cnn_filters:
            check_positive_int("cnn_filters", filters)
        augmentation = dict(image_augmentation or {})
        unknown = sorted(set(augmentation) - {"translation", "zoom", "rotation"})
        if unknown or not all(isinstance(v, (int, float)) and 0 <= v < 1 for v in augmentation.values()):
            raise ValueError("`image_augmentation` takes `translation`, `zoom` and `rotation` factors in [0, 1), "
                             f"got {image_augmentation!r}.")
        if augmentation and image_shape is None:
            raise ValueError("`image_augmentation` needs an image input (`image_shape`).")

        # === Layers ===
        decoder_layers = make_decoder_layers(
            spec, vocab_size=vocab_size, embedding_dim=embedding_dim, units=units,
            num_layers=num_layers, dropout=dropout, recurrent_dropout=recurrent_dropout,
            attention=attention, attention_units=attention_units,
            output_activation=output_activation, cell_options=cell_options,
        )
        state_projections = [  # one per state, sized as the layer's (a QRNN's second state is wider)
            [
                keras.layers.Dense(size, activation="tanh", name=f"initial_state_{i}_{k}")
                for k, size in enumerate(decoder_layers[f"decoder_rnn_{i}"].state_size)
            ]
            for i in range(num_layers)
        ]

        # === Functional Model ===
        memory = memory_mask = None
        if input_dim is not None:
            source = keras.Input((input_dim,), name="features")
            summary = source
        else:
            source = keras.Input(tuple(image_shape), name="image")
            feature_map = source
            if augmentation:
                feature_map = ImageAugmentation(**augmentation, name="image_augmentation")(feature_map)
            for index, filters in enumerate(cnn_filters):
                feature_map = keras.layers.Conv2D(
                    filters, 3, padding="same", activation="relu", name=f"image_conv_{index}"
                )(feature_map)
                feature_map = keras.layers.MaxPooling2D(2, name=f"image_pool_{index}")(feature_map)
            summary = keras.layers.GlobalAveragePooling2D(name="image_features")(feature_map)
            if attention is not None:
                memory = keras.layers.Reshape((-1, feature_map.shape[-1]), name="memory")(feature_map)
                memory_mask = PaddingMask(name="memory_mask")(memory)
        states = [[projection(summary) for projection in layer] for layer in state_projections]
        decoder_tokens = keras.Input((None,), dtype="int32", name=DECODER_INPUT)
        logits, _, _ = run_decoder(
            decoder_layers.__getitem__, num_layers=num_layers, attention=attention,
            decoder_tokens=decoder_tokens, states=states, memory=memory,
            memory_mask=memory_mask,
        )
        inputs = {source.name: source, DECODER_INPUT: decoder_tokens}
        super().__init__(inputs=inputs, outputs=logits, config=config, compile=compile, **kwargs)
