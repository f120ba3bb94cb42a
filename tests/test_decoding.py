import keras
import numpy as np
import pytest

import helpers
import rnnzoo
from rnnzoo.data import END_ID, PAD_ID, START_ID

GENERATORS = [
    ("encoder_decoder", dict(cell="lstm")),
    ("encoder_decoder", dict(cell="gru", bidirectional=True, attention="luong")),
    ("encoder_decoder", dict(cell="simple", attention="bahdanau", num_layers=1)),
    ("one_to_many", dict(cell="lstm")),
    ("gru_captioner_attention", dict(image_shape=(8, 8, 1), cnn_filters=(4,))),
]


def _teacher_forced_argmax(model, encoder_inputs, generated):
    decoder_tokens = np.concatenate(
        [np.full((generated.shape[0], 1), START_ID), generated[:, :-1]], axis=1
    ).astype("int32")
    logits = keras.ops.convert_to_numpy(model({**encoder_inputs, "decoder_tokens": decoder_tokens}))
    logits[..., PAD_ID] = -np.inf  # the decoder never emits padding
    return logits.argmax(-1)


@pytest.mark.parametrize("name,kwargs", GENERATORS)
def test_greedy_decoding_reproduces_the_teacher_forced_argmax(name, kwargs):
    model = helpers.build_tiny(name, units=8, **kwargs)
    inputs = helpers.make_inputs(model, length=6, batch_size=4)
    encoder_inputs = {k: v for k, v in inputs.items() if k != "decoder_tokens"}
    generated = rnnzoo.greedy_decode(model, encoder_inputs, max_length=7, end_id=None)
    assert generated.shape == (4, 7)
    assert (generated != PAD_ID).all()
    np.testing.assert_array_equal(_teacher_forced_argmax(model, encoder_inputs, generated), generated)


def test_inference_models_share_the_trained_weights():
    model = helpers.build_tiny("encoder_decoder", attention="luong")
    encoder, step = model.inference_models()
    assert step.get_layer("logits") is model.get_layer("logits")
    assert encoder.get_layer("encoder_rnn_0") is model.get_layer("encoder_rnn_0")
    assert {"decoder_tokens", "memory", "memory_mask", "state_0_0", "state_0_1"} <= set(step.input)
    inputs = helpers.make_inputs(model, length=4)
    first_tokens = keras.ops.convert_to_tensor(inputs["decoder_tokens"][:, :1])
    outputs = step({"decoder_tokens": first_tokens, **encoder(inputs["source_tokens"])})
    assert tuple(outputs["attention"].shape) == (3, 1, 4)  # (batch, target, source)


def test_rows_stop_at_the_end_token_and_pad_after_it():
    model = helpers.build_tiny("encoder_decoder", units=8)
    # Make the end token win at every step: only the bias of the output layer.
    logits = model.get_layer("logits")
    kernel, bias = logits.get_weights()
    bias[END_ID] = 100.0
    logits.set_weights([kernel, bias])
    inputs = helpers.make_inputs(model, length=4)
    generated = model.generate({"source_tokens": inputs["source_tokens"]}, max_length=5)
    np.testing.assert_array_equal(generated, np.full((3, 1), END_ID))


def test_max_length_must_be_positive():
    model = helpers.build_tiny("one_to_many")
    with pytest.raises(ValueError, match="max_length"):
        model.generate({"features": np.zeros((1, 6), "float32")}, max_length=0)
