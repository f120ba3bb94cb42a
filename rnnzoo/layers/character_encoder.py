import keras

from rnnzoo.layers.segment_encoder import SegmentEncoder


@keras.saving.register_keras_serializable(package="rnnzoo")
class CharacterEncoder(SegmentEncoder):
    """Each word's characters -> one vector (Lample et al. 2016): character
    embeddings read by a bidirectional recurrent layer, whose final forward
    and backward states are concatenated. A `SegmentEncoder` whose segments
    are words and whose steps are characters.

    Input `(batch, words, characters)` int ids (0 is padding, on the right);
    output `(batch, words, 2 * units)`, masked at padding words (which
    give zeros).
    """

    def __init__(self, vocab_size, embedding_dim=25, units=25, cell="lstm", unroll=False, **kwargs):
        super().__init__(vocab_size=vocab_size, embedding_dim=embedding_dim, units=units, cell=cell,
                         bidirectional=True, pooling="last", unroll=unroll, **kwargs)

    def get_config(self):
        config = super().get_config()
        return {key: value for key, value in config.items()
                if key not in ("input_dim", "num_layers", "bidirectional", "pooling", "attention_units", "dropout",
                               "cell_options", "mask_zero")}
