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
    ("encoder_decoder", dict(cell="qrnn", attention="luong")),  # states of another width than units
    ("one_to_many", dict(cell="qrnn")),
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


# --- search algorithms on hand-built step functions ---------------------------

A, B = 4, 5  # two ordinary tokens after the reserved ids


def _table_step(table):
    """A step function whose logits depend only on the previous token."""
    table = keras.ops.convert_to_tensor(np.log(np.asarray(table, "float32") + 1e-12))

    def step_fn(tokens, state, context):
        return keras.ops.take(table, tokens[:, 0], axis=0), state

    return step_fn


def _greedy_trap():
    """Greedy takes A (0.6) then ends (0.3): p = 0.18. The best sequence is
    B (0.4) then end (0.9): p = 0.36."""
    table = np.zeros((6, 6))
    table[START_ID, [A, B]] = 0.6, 0.4
    table[A, [END_ID, A, B, 1, START_ID]] = 0.3, 0.2, 0.2, 0.15, 0.15
    table[B, [END_ID, A]] = 0.9, 0.1
    return _table_step(table)


def test_beam_search_finds_the_sequence_greedy_misses():
    step_fn = _greedy_trap()
    greedy, steps = rnnzoo.decoding.greedy_search(step_fn, {}, {}, 1, max_length=2)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(greedy)[0, :2], [A, END_ID])
    ids, scores, _ = rnnzoo.decoding.beam_search(step_fn, {}, {}, 1, beam_size=2, max_length=2)
    ids, scores = keras.ops.convert_to_numpy(ids), keras.ops.convert_to_numpy(scores)
    np.testing.assert_array_equal(ids[0, 0], [B, END_ID])
    np.testing.assert_allclose(scores[0, 0], np.log(0.36), rtol=1e-5)
    assert scores[0, 0] > scores[0, 1]  # beams come best first


def test_beam_search_is_exact_when_the_beam_holds_every_prefix():
    rng = np.random.default_rng(0)
    vocab, length = 6, 3
    table = rng.normal(size=(vocab, vocab)).astype("float32")
    mix = rng.normal(size=(vocab, vocab)).astype("float32")

    def step_fn(tokens, state, context):  # depends on the whole prefix through `state`
        seen = state["seen"] + keras.ops.one_hot(tokens[:, 0], vocab)
        logits = keras.ops.take(table, tokens[:, 0], axis=0) + keras.ops.matmul(seen, mix) * 0.5
        return logits, {"seen": seen}

    def log_prob(sequence):
        total, seen, previous = 0.0, np.zeros(vocab, "float32"), START_ID
        for token in sequence:
            seen = seen + np.eye(vocab, dtype="float32")[previous]
            logits = table[previous] + seen @ mix * 0.5
            logits[PAD_ID] = -1e9
            total += logits[token] - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
            previous = token
        return total

    import itertools

    candidates = list(itertools.product(range(1, vocab), repeat=length))
    best = max(candidates, key=log_prob)
    state = {"seen": keras.ops.zeros((1, vocab))}
    ids, scores, _ = rnnzoo.decoding.beam_search(step_fn, state, {}, 1, beam_size=(vocab - 1) ** 2,
                                                 max_length=length, end_id=None)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(ids)[0, 0], best)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scores)[0, 0], log_prob(best), rtol=1e-4)


def test_length_penalty_prefers_the_longer_hypothesis():
    """End now (log 0.5) vs two more steps at 0.45 * 0.95 ... the raw score
    prefers ending; GNMT's penalty with alpha=2 prefers the longer one."""
    table = np.zeros((6, 6))
    table[START_ID, [END_ID, A]] = 0.55, 0.45
    table[A, [B, END_ID]] = 0.95, 0.05
    table[B, [END_ID, A]] = 0.95, 0.05
    step_fn = _table_step(table)
    short, _, _ = rnnzoo.decoding.beam_search(step_fn, {}, {}, 1, beam_size=2, max_length=4)
    long, _, _ = rnnzoo.decoding.beam_search(step_fn, {}, {}, 1, beam_size=2, max_length=4, length_penalty=2.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(short)[0, 0, :1], [END_ID])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(long)[0, 0, :3], [A, B, END_ID])


@pytest.mark.parametrize("name,kwargs", GENERATORS[:3] + GENERATORS[4:6])
def test_beam_size_one_equals_greedy_and_beams_score_at_least_as_well(name, kwargs):
    model = helpers.build_tiny(name, units=8, **kwargs)
    inputs = helpers.make_inputs(model, length=6, batch_size=5)
    encoder_inputs = {k: v for k, v in inputs.items() if k != "decoder_tokens"}
    greedy = model.generate(encoder_inputs, max_length=6)
    encode, step_fn = rnnzoo.decoding.generator_step(model)
    (source,) = encoder_inputs.values()
    state, context = encode(keras.ops.convert_to_tensor(source))
    one_beam, _, steps = rnnzoo.decoding.beam_search(step_fn, state, context, 5, beam_size=1, max_length=6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(one_beam)[:, 0, :int(steps)], greedy)

    def score(ids):  # log-probability of each row under the teacher-forced model
        ids = np.pad(ids, [(0, 0), (0, 6 - ids.shape[1])])
        decoder_tokens = np.concatenate([np.full((len(ids), 1), START_ID), ids[:, :-1]], 1).astype("int32")
        logits = keras.ops.convert_to_numpy(model({**encoder_inputs, "decoder_tokens": decoder_tokens}))
        logits[..., PAD_ID] = -1e9
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        picked = np.take_along_axis(log_probs, ids[..., None], -1)[..., 0]
        return np.where(ids != PAD_ID, picked, 0.0).sum(-1)

    beam = model.generate(encoder_inputs, max_length=6, beam_size=4)
    assert np.all(score(beam) >= score(greedy) - 1e-4)


def test_beam_search_arguments_are_checked():
    model = helpers.build_tiny("encoder_decoder")
    inputs = helpers.make_inputs(model, length=4)
    with pytest.raises(ValueError, match="beam_size"):
        model.generate({"source_tokens": inputs["source_tokens"]}, max_length=3, beam_size=0)
    with pytest.raises(ValueError, match="length_penalty"):
        model.generate({"source_tokens": inputs["source_tokens"]}, max_length=3, beam_size=2, length_penalty=-1)


def test_sampling_feeds_the_prompt_then_draws_repeatably():
    table = np.full((6, 6), 0.1)
    table[:, PAD_ID] = 0.0
    table[A, B] = table[B, A] = 10.0  # A -> B -> A ... almost surely
    step_fn = _table_step(table / table.sum(-1, keepdims=True))
    prompt = np.array([[START_ID, A], [START_ID, B]], "int32")
    top1 = keras.ops.convert_to_numpy(rnnzoo.decoding.sample(step_fn, {}, {}, prompt, max_length=4, top_k=1))
    np.testing.assert_array_equal(top1, [[B, A, B, A], [A, B, A, B]])  # top-1 follows the arg max

    def draw(seed, **kwargs):
        return keras.ops.convert_to_numpy(rnnzoo.decoding.sample(
            step_fn, {}, {}, np.full((200, 1), START_ID, "int32"), max_length=3, seed=seed, **kwargs))

    np.testing.assert_array_equal(draw(1), draw(1))
    assert (draw(1) != draw(2)).any()
    hot = draw(1, temperature=100.0, forbidden=(PAD_ID, 1))  # almost uniform over the allowed ids
    assert set(np.unique(hot)) == {START_ID, END_ID, A, B}
    with pytest.raises(ValueError, match="temperature"):
        draw(1, temperature=0.0)


# --- scheduled sampling ------------------------------------------------------------


def test_scheduled_sampling_layer_mixes_in_the_previous_steps_predictions():
    from rnnzoo.layers import ScheduledSampling

    layer = ScheduledSampling(seed=0)
    tokens = np.array([[START_ID, 7, 8, 9, 0], [START_ID, 6, 0, 0, 0]], "int32")
    logits = np.zeros((2, 5, 10), "float32")
    logits[:, :, 5] = 1.0  # predicts 5 everywhere
    logits[:, :, PAD_ID] = 9.0  # padding is never fed back, however likely
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer([tokens, logits], training=True)), tokens)
    layer.probability.assign(1.0)
    mixed = keras.ops.convert_to_numpy(layer([tokens, logits], training=True))
    np.testing.assert_array_equal(mixed, [[START_ID, 5, 5, 5, 0], [START_ID, 5, 0, 0, 0]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer([tokens, logits], training=False)), tokens)


def test_scheduled_sampling_model_trains_saves_and_predicts_teacher_forced(tmp_path):
    model = helpers.build_tiny("encoder_decoder", attention="luong", scheduled_sampling=True, dropout=0.0)
    plain = helpers.build_tiny("encoder_decoder", attention="luong", dropout=0.0)
    inputs = helpers.make_inputs(model, length=5)
    model.get_layer("scheduled_sampling").probability.assign(1.0)
    served = keras.ops.convert_to_numpy(model(inputs, training=False))
    sampled = keras.ops.convert_to_numpy(model(inputs, training=True))
    assert np.abs(served - sampled).max() > 1e-4  # training feeds back predictions
    for layer in plain.layers:  # the same decoder without the second pass
        layer.set_weights(model.get_layer(layer.name).get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(plain(inputs)), served, atol=1e-6)
    helpers.run_save_load_test(model, tmp_path)
    helpers.run_training_test(model)


def test_sampling_schedules_grow_from_zero_to_the_maximum():
    from rnnzoo.training.schedules import SCHEDULES, sampling_probability

    for schedule in SCHEDULES:
        values = [sampling_probability(schedule, epoch, 10, 0.25) for epoch in range(10)]
        assert values[0] == pytest.approx(0.0) and all(b >= a for a, b in zip(values, values[1:]))
        assert 0.1 < values[-1] <= 0.25
    assert sampling_probability("linear", 9, 10, 0.25) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="schedule"):
        sampling_probability("cosine", 0, 10, 0.25)


def test_image_augmentation_acts_only_in_training(tmp_path):
    model = rnnzoo.build_model("one_to_many", image_shape=(16, 32, 1), vocab_size=10, cnn_filters=[4], units=8,
                               image_augmentation={"translation": 0.1, "zoom": 0.1, "rotation": 0.02})
    inputs = {"image": np.random.default_rng(0).random((2, 16, 32, 1)).astype("float32"),
              "decoder_tokens": np.array([[START_ID, 4, 5]] * 2, "int32")}
    served = keras.ops.convert_to_numpy(model(inputs))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(inputs)), served)
    assert np.abs(keras.ops.convert_to_numpy(model(inputs, training=True)) - served).max() > 1e-4
    helpers.run_save_load_test(model, tmp_path)
    with pytest.raises(ValueError, match="image_augmentation"):
        rnnzoo.build_model("one_to_many", image_shape=(8, 8, 1), vocab_size=10, image_augmentation={"shear": 0.1})
