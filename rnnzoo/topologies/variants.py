"""Named variants: each fixes a few defaults of a topology (user kwargs win)."""

from rnnzoo.topologies.registry import register_model


@register_model("many_to_one")
def lstm_classifier():
    """LSTM sequence classifier (sentiment)."""
    return dict(cell="lstm")


@register_model("many_to_one")
def bigru_classifier():
    """Bidirectional GRU sequence classifier."""
    return dict(cell="gru", bidirectional=True)


@register_model("many_to_one")
def lstm_regressor():
    """LSTM on float feature sequences predicting real values."""
    return dict(cell="lstm", task="regression", input_dim=1, vocab_size=None)


@register_model("many_to_many")
def bilstm_tagger():
    """BiLSTM sequence tagger (Huang et al. 2015, without the CRF)."""
    return dict(cell="lstm", bidirectional=True)


@register_model("many_to_many")
def bilstm_crf_tagger():
    """BiLSTM-CRF tagger (Huang et al. 2015; add `char_vocab_size` for Lample et al. 2016)."""
    return dict(cell="lstm", bidirectional=True, output_layer="crf")


@register_model("hierarchical")
def han_classifier():
    """Hierarchical Attention Network (Yang et al. 2016): bi-GRU words and sentences, attention at both levels."""
    return dict(cell="gru", units=50, bidirectional=True, segment_pooling="attention", pooling="attention")


@register_model("encoder_decoder")
def lstm_seq2seq():
    """LSTM encoder-decoder without attention (Sutskever et al. 2014)."""
    return dict(cell="lstm")


@register_model("encoder_decoder")
def lstm_seq2seq_luong():
    """Bidirectional LSTM encoder, LSTM decoder, Luong attention (2015)."""
    return dict(cell="lstm", bidirectional=True, attention="luong")


@register_model("encoder_decoder")
def gru_seq2seq_bahdanau():
    """GRU encoder-decoder with Bahdanau (additive) attention (2015)."""
    return dict(cell="gru", attention="bahdanau")


@register_model("one_to_many")
def lstm_captioner():
    """Show and Tell: small CNN image encoder, LSTM decoder (Vinyals et al. 2015)."""
    return dict(cell="lstm", image_shape=(32, 32, 3), input_dim=None)


@register_model("one_to_many")
def gru_captioner_attention():
    """Show, Attend and Tell: CNN feature map, GRU decoder, Bahdanau attention."""
    return dict(cell="gru", image_shape=(32, 32, 3), input_dim=None, attention="bahdanau")
