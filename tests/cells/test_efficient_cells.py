"""The efficient cells (IndRNN, SRU, QRNN, minGRU, minLSTM, layer-normalized
LSTM) and the modern recurrent families (LRU, RG-LRU, sLSTM, mLSTM, Mamba-2,
Gated DeltaNet) against
their papers' equations (the NumPy oracle), the parallel scan against the
step loop, the one-step contract, and every topology."""

import keras
import numpy as np
import pytest

import helpers
import reference_cells
import rnnzoo
from rnnzoo.cells import ProjectedRNN, get_cell, projected
from rnnzoo.data import PAD_ID, START_ID

UNITS, INPUT_DIM, STEPS, BATCH = 6, 3, 9, 3
MODERN = ["lru", "rg_lru", "slstm", "mlstm", "mamba2", "gated_deltanet"]
EFFICIENT = ["indrnn", "sru", "qrnn", "min_gru", "min_lstm", "layer_norm_lstm", *MODERN]
# Two heads of 3 units (Mamba-2: of 6, its inner width being 2 * units), a state of 4.
OPTIONS = {"slstm": {"heads": 2}, "mlstm": {"heads": 2}, "gated_deltanet": {"heads": 2},
           "mamba2": {"heads": 2, "state_dim": 4}}
# The JAX run (see README) checks the oracles of every cell, and the rest for the modern cells only.
ON_TENSORFLOW = keras.backend.backend() == "tensorflow"
CELLS_HERE = EFFICIENT if ON_TENSORFLOW else MODERN
# Right-padded lengths 9, 6 and 2, the layout every recipe feeds.
MASK = np.arange(STEPS)[None, :] < np.array([[9], [6], [2]])


def _layer(name, **options):
    options = {**OPTIONS.get(name, {}), **options}
    layer = get_cell(name).build(UNITS, return_sequences=True, return_state=True, **options)
    layer.build((None, None, INPUT_DIM))
    rng = np.random.default_rng(len(name))
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()])
    return layer


def _inputs(seed=0):
    return np.random.default_rng(seed).normal(size=(BATCH, STEPS, INPUT_DIM)).astype("float32")


def _numpy(tensors):
    return [keras.ops.convert_to_numpy(t) for t in tensors]


@pytest.mark.parametrize("name, reference, options", [
    ("indrnn", reference_cells.indrnn, {}),
    ("indrnn", reference_cells.indrnn, {"activation": "tanh"}),
    ("sru", reference_cells.sru, {}),  # 3 inputs, 5 units: the highway is projected
    ("min_gru", reference_cells.min_gru, {}),
    ("min_lstm", reference_cells.min_lstm, {}),
    ("layer_norm_lstm", reference_cells.layer_norm_lstm, {}),
    ("lru", reference_cells.lru, {}),
    ("rg_lru", reference_cells.rg_lru, {}),
    ("slstm", reference_cells.slstm, {}),
    ("mlstm", reference_cells.mlstm, {"heads": 2}),
    ("mamba2", reference_cells.mamba2, {"heads": 2, "state_dim": 4}),
    ("gated_deltanet", reference_cells.gated_deltanet, {"heads": 2}),
])
def test_cell_matches_its_papers_equations(name, reference, options):
    layer = _layer(name, **options)
    sequence, *states = _numpy(layer(_inputs()))
    expected_sequence, expected_states = reference(_inputs(), *layer.get_weights(), **options)
    np.testing.assert_allclose(sequence, expected_sequence, atol=2e-5)
    expected_states = expected_states if isinstance(expected_states, tuple) else (expected_states,)
    for state, expected in zip(states, expected_states):
        np.testing.assert_allclose(state, expected, atol=2e-5)


def test_sru_highway_is_the_input_itself_when_sizes_match():
    layer = get_cell("sru").build(INPUT_DIM, return_sequences=True, return_state=False)
    layer.build((None, None, INPUT_DIM))
    assert layer.cell.kernel.shape == (INPUT_DIM, 3 * INPUT_DIM)
    rng = np.random.default_rng(0)
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    expected, _ = reference_cells.sru(_inputs(), *layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(_inputs())), expected, atol=2e-5)


@pytest.mark.parametrize("window", [2, 3])
def test_qrnn_matches_the_convolution(window):
    layer = _layer("qrnn", window=window)
    sequence, c, _ = _numpy(layer(_inputs()))
    kernel, bias = layer.get_weights()
    expected_sequence, expected_c = reference_cells.qrnn(_inputs(), kernel, bias, window)
    np.testing.assert_allclose(sequence, expected_sequence, atol=2e-5)
    np.testing.assert_allclose(c, expected_c, atol=2e-5)


@pytest.mark.parametrize("name", ["min_gru", "min_lstm"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_parallel_scan_equals_the_step_loop(name, go_backwards, zero_output_for_mask):
    """With masks, both directions and an initial state, the scan gives what
    Keras' own recurrent loop gives, outputs and final state."""
    scan = _layer(name, go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask, parallel_scan=True)
    config = {**scan.get_config(), "parallel_scan": False}
    loop = ProjectedRNN.from_config(config)
    loop.build((None, None, INPUT_DIM))
    loop.set_weights(scan.get_weights())
    initial = np.random.default_rng(5).normal(size=(BATCH, UNITS)).astype("float32")
    for mask in (None, MASK):
        (sequence, state), (expected_sequence, expected_state) = (
            _numpy(layer(_inputs(), mask=mask, initial_state=[initial])) for layer in (scan, loop))
        np.testing.assert_allclose(state, expected_state, atol=1e-5)
        # Every position, padding included (zeros before the first real step), on every backend.
        np.testing.assert_allclose(sequence, expected_sequence, atol=1e-5)


# Every mask layout on TensorFlow; on JAX (CI time) the plain mixer forward and the block backward.
CHUNKED_CASES = [(False, False, False), (True, False, False), (False, True, False), (True, True, False),
                 (True, False, True)]


@pytest.mark.parametrize("name", ["mlstm", "mamba2", "gated_deltanet"])
@pytest.mark.parametrize("go_backwards, zero_output_for_mask, block",
                         CHUNKED_CASES if ON_TENSORFLOW else [CHUNKED_CASES[0], CHUNKED_CASES[-1]])
def test_chunked_form_equals_the_step_loop(name, go_backwards, zero_output_for_mask, block, monkeypatch):
    """Chunks of 4 (3 chunks, the last one padded) with right padding read
    both ways and initial states: the outputs and every state (mLSTM's C, n
    and stabilizer m; the memories and the convolutions' pending sums of
    Mamba-2 and Gated DeltaNet, which cross chunk borders) are the step
    loop's, with the paper's block around the mixer too."""
    monkeypatch.setattr(projected, "CHUNK", 4)
    chunked = _layer(name, go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask,
                     parallel_scan=True, block=block)
    loop = ProjectedRNN.from_config({**chunked.get_config(), "parallel_scan": False})
    loop.build((None, None, INPUT_DIM))
    loop.set_weights(chunked.get_weights())
    rng = np.random.default_rng(5)
    initial = [0.3 * rng.normal(size=(BATCH, size)).astype("float32") for size in chunked.cell.state_size]
    chunks, chunk = [], chunked.cell.chunk
    monkeypatch.setattr(chunked.cell, "chunk", lambda *args: chunks.append(1) or chunk(*args))
    for mask in (None, MASK):
        got, expected = (_numpy(layer(_inputs(), mask=mask, initial_state=initial)) for layer in (chunked, loop))
        for value, reference in zip(got, expected):
            np.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-5)
    assert chunks  # the chunked form ran


@pytest.mark.parametrize("name, block", [(name, False) for name in CELLS_HERE] + [(name, True) for name in MODERN])
def test_stepping_the_cell_equals_the_whole_sequence(name, block):
    """The cell contract (one step at a time, as streaming models and
    hand-stepped decoders use it) gives the sequence layer's outputs and
    states, and a masked step keeps the state; in the papers' blocks too."""
    layer = _layer(name, **({"block": True} if block else {}))
    sequence, *final_states = _numpy(layer(_inputs(), mask=MASK))
    states = [np.zeros((BATCH, size), "float32") for size in layer.state_size]
    for t in range(STEPS):
        output, new_states = layer.cell(_inputs()[:, t], states)
        real = MASK[:, t:t + 1]
        states = [np.where(real, keras.ops.convert_to_numpy(new), old) for new, old in zip(new_states, states)]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(output)[real[:, 0]], sequence[real[:, 0], t],
                                   atol=2e-5)
    for state, expected in zip(states, final_states):
        np.testing.assert_allclose(state, expected, atol=2e-5)


@pytest.mark.skipif(not ON_TENSORFLOW, reason="the TensorFlow run; on JAX test_modern_cell_contract covers topologies")
@pytest.mark.parametrize("name", EFFICIENT)
def test_efficient_cell_in_every_topology(name, tmp_path):
    """Shapes in every topology (the encoder-decoder with attention), save
    and load, and a few training steps lower the loss (for the modern cells
    `test_modern_cell_contract` does these two, with their blocks)."""
    for topology in rnnzoo.list_topologies():
        extra = {"attention": "luong"} if topology == "encoder_decoder" else {}
        model = helpers.build_tiny(topology, cell=name, **extra)
        helpers.run_output_shape_test(model, lengths=(1, 4))
    if name not in MODERN:
        helpers.run_save_load_test(model, tmp_path)
        helpers.run_training_test(helpers.build_tiny("bidirectional", cell=name, dropout=0.2))


@pytest.mark.parametrize("name", EFFICIENT)
def test_recurrent_dropout_is_refused(name):
    with pytest.raises(ValueError, match=f"cell '{name}': `recurrent_dropout` is not supported"):
        get_cell(name).build(UNITS, return_sequences=False, return_state=False, recurrent_dropout=0.1,
                             **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name, options, message", [
    ("qrnn", {"window": 1}, "`window` must be an integer >= 2"),
    ("indrnn", {"activation": "sigmoid"}, "`activation` must be one of"),
    ("indrnn", {"recurrent_max": 0}, "`recurrent_max` must be > 0"),
    ("min_gru", {"dropout": 1.0}, r"`dropout` must be in \[0, 1\)"),
])
def test_bad_cell_options_are_named(name, options, message):
    with pytest.raises(ValueError, match=message):
        get_cell(name).build(UNITS, return_sequences=False, return_state=False, **options)


def test_indrnn_recurrent_max_clips_the_recurrent_weights():
    model = helpers.build_tiny("many_to_one", cell="indrnn", cell_options={"recurrent_max": 0.5})
    inputs = helpers.make_inputs(model, 6, batch_size=8)
    targets = helpers.make_targets(model, model(inputs))
    model.compile(optimizer=keras.optimizers.SGD(50.0))
    model.fit(inputs, targets, epochs=2, verbose=0)
    weights = [w for w in model.weights if "recurrent_weight" in w.path]
    assert weights and all(np.abs(keras.ops.convert_to_numpy(w)).max() <= 0.5 + 1e-6 for w in weights)


@pytest.mark.parametrize("steps, chunk", [(150, 8), (150, 64), (64, 64), (1, 4)])
def test_linear_recurrence_across_blocks(steps, chunk):
    """The blocked scan (blocks of `chunk` steps, padded, carried from block
    to block) gives h_t = a_t h_{t-1} + b_t as the plain loop does."""
    from rnnzoo.cells.projected import linear_recurrence

    rng = np.random.default_rng(steps)
    a = rng.uniform(0.5, 1.0, size=(2, steps, 3)).astype("float32")
    b = rng.normal(size=(2, steps, 3)).astype("float32")
    initial = rng.normal(size=(2, 3)).astype("float32")
    h, expected = initial, []
    for t in range(steps):
        h = a[:, t] * h + b[:, t]
        expected.append(h)
    got = keras.ops.convert_to_numpy(linear_recurrence(a, b, initial, chunk=chunk))
    np.testing.assert_allclose(got, np.stack(expected, 1), rtol=1e-5, atol=1e-5)
    if keras.backend.backend() == "tensorflow":  # traced with unknown batch and length, as recipes run it
        import tensorflow as tf

        spec = tf.TensorSpec((None, None, 3))
        traced = tf.function(lambda a, b, h: linear_recurrence(a, b, h, chunk=chunk),
                             input_signature=[spec, spec, tf.TensorSpec((None, 3))])
        np.testing.assert_allclose(traced(a, b, initial).numpy(), np.stack(expected, 1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", MODERN)
def test_modern_cell_contract(name, tmp_path):
    """Right padding changes no real position (two stacked paper blocks),
    a few steps lower their loss, and an encoder-decoder of blocks (states
    wider than units for the matrix memories, the blocks' convolution
    states) saves and loads in safe mode. On TensorFlow also (backend-neutral
    logic, checked once for CI time): the bare mixer read both ways ignores
    padding, a stateful model of blocks fed in halves equals it fed whole,
    and the encoder-decoder decodes greedily what its teacher-forced graph
    predicts; `test_efficient_cell_in_every_topology` covers the bare mixers
    in every topology there."""
    def pad(array, extra):
        return np.pad(array, [(0, 0), (0, extra)] + [(0, 0)] * (array.ndim - 2))

    blocks = {**OPTIONS.get(name, {}), "block": True}
    tokens = np.random.default_rng(0).integers(1, 11, (3, 5)).astype("int32")
    bare = [helpers.build_tiny("many_to_many", cell=name, bidirectional=True, vocab_size=11)] if ON_TENSORFLOW else []
    for model in (*bare, helpers.build_tiny("many_to_many", cell=name, num_layers=2, bidirectional=False,
                                            vocab_size=11, cell_options=blocks)):
        np.testing.assert_allclose(_numpy([model(pad(tokens, 3))])[0][:, :5], _numpy([model(tokens)])[0],
                                   atol=1e-5)
    helpers.run_training_test(model)
    model = helpers.build_tiny("encoder_decoder", cell=name, attention="luong", units=8, cell_options=blocks)
    if ON_TENSORFLOW:  # backend-neutral stepping logic, checked once (CI time: the JAX run is the slower)
        stateful = rnnzoo.build_model("many_to_many", vocab_size=11, num_classes=4, cell=name, units=8,
                                      bidirectional=False, stateful=True, batch_size=3, cell_options=blocks)
        whole = _numpy([stateful(tokens)])[0]
        stateful.reset_states()
        stateful(tokens[:, :2])
        np.testing.assert_allclose(_numpy([stateful(tokens[:, 2:])])[0], whole[:, 2:], atol=1e-5)
        source = {"source_tokens": tokens}
        generated = rnnzoo.greedy_decode(model, source, max_length=4, end_id=None)
        decoder_tokens = np.concatenate([np.full((3, 1), START_ID), generated[:, :-1]], axis=1).astype("int32")
        logits = _numpy([model({**source, "decoder_tokens": decoder_tokens})])[0]
        logits[..., PAD_ID] = -np.inf
        np.testing.assert_array_equal(logits.argmax(-1), generated)
    helpers.run_save_load_test(model, tmp_path)


def test_mlstm_stabilizer_keeps_huge_input_gates_finite():
    """Input gates of exp(100) overflow float32 unless stabilized; the
    stabilized cell still gives the paper's (float64) outputs."""
    layer = _layer("mlstm", heads=2)
    kernel, bias, *scales = layer.get_weights()
    bias[UNITS:UNITS + 2] = 100.0  # the input gates' bias
    layer.set_weights([kernel, bias, *scales])
    sequence = _numpy(layer(_inputs()))[0]
    expected, _ = reference_cells.mlstm(_inputs().astype("float64"), kernel, bias.astype("float64"), *scales, heads=2)
    assert np.isfinite(sequence).all()
    np.testing.assert_allclose(sequence, expected, rtol=1e-4, atol=2e-5)  # float32 against float64


def test_a_matrix_memory_cannot_start_a_decoder_from_merged_bidirectional_states():
    with pytest.raises(ValueError, match="cell 'mlstm': a bidirectional encoder's merged states"):
        helpers.build_tiny("encoder_decoder", cell="mlstm", bidirectional=True)
    model = helpers.build_tiny("encoder_decoder", cell="lru", bidirectional=True)  # states of `units`: they fit
    helpers.run_output_shape_test(model, lengths=(3,))


@pytest.mark.parametrize("name", ["mlstm", "mamba2", "gated_deltanet"])
def test_a_stack_of_matrix_memories_starts_with_outputs_that_vary(name):
    """q, k and v all read the input, so a matrix memory's output is cubic in
    the input's scale; without the pre-norm (and mLSTM's head norm) a
    two-layer stack over small embeddings started with outputs near 1e-15
    (mLSTM) or 1e-6 (Gated DeltaNet) and did not train."""
    model = rnnzoo.build_model("many_to_many", vocab_size=40, num_classes=40, cell=name, units=32, num_layers=2,
                               bidirectional=False, embedding_dim=16)
    tokens = np.random.default_rng(0).integers(1, 40, (4, 30)).astype("int32")
    logits = keras.ops.convert_to_numpy(model(tokens))
    assert logits.std(axis=1).mean() > 1e-2


def _head_norm(heads):
    def norm(y, scale):
        split = y.reshape(*y.shape[:-1], heads, -1)
        return (reference_cells._layer_norm(split) * scale.reshape(heads, -1)).reshape(y.shape)
    return norm


BLOCK_WEIGHTS = ("block_input_scale", "residual_kernel", "mlp_scale", "mlp_kernel", "mlp_output_kernel")


@pytest.mark.parametrize("name, norm, mlp", [
    ("lru", "layer", None), ("rg_lru", "rms", "gelu"), ("slstm", "layer", "gelu"), ("mlstm", "layer", None),
    ("mamba2", "rms", None), ("gated_deltanet", "rms", "silu"),
])
@pytest.mark.parametrize("input_dim", [INPUT_DIM, UNITS])  # the residual projected, or the input itself
def test_block_matches_its_papers_equations(name, norm, mlp, input_dim):
    """`block=True`: the paper's block (pre-norm, mixer, residual, the gated
    MLP where the paper has one) around the mixer's own NumPy oracle; for
    RG-LRU, Griffin's recurrent block (gate branch, convolution, RG-LRU),
    for mLSTM, xLSTM's up-projection (convolution, SiLU gate, skip)."""
    options = {**OPTIONS.get(name, {}), "block": True}
    layer = get_cell(name).build(UNITS, return_sequences=True, return_state=False, **options)
    layer.build((None, None, input_dim))
    rng = np.random.default_rng(len(name))
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()])
    inputs = rng.normal(size=(BATCH, STEPS, input_dim)).astype("float32")
    weights = {w.name: keras.ops.convert_to_numpy(w) for w in layer.cell.weights}
    block = {key: weights.pop(key, None) for key in BLOCK_WEIGHTS}
    extra = {key: weights.pop(key) for key in ("glu_kernel", "head_scale") if key in weights}
    mixer_weights = list(weights.values())  # the mixer's, in the order its oracle takes them
    oracle_options = {} if name == "slstm" else OPTIONS.get(name, {})  # sLSTM's oracle reads heads off its kernel
    if name == "rg_lru":
        def mixer(x):
            return reference_cells.griffin_recurrent_block(x, *mixer_weights)[0]
    elif name == "mlstm":
        def mixer(x):
            return reference_cells.mlstm_block_mixer(x, *mixer_weights, **oracle_options)[0]
    else:
        def mixer(x):
            return getattr(reference_cells, name)(x, *mixer_weights, **oracle_options)[0]
    mixer_output = lambda y: y  # noqa: E731
    if name == "lru":
        def mixer_output(y):
            values, gates = np.split(reference_cells._gelu(y) @ extra["glu_kernel"], 2, axis=-1)
            return values * reference_cells.sigmoid(gates)
    if name == "slstm":
        def mixer_output(y):
            return _head_norm(2)(y, extra["head_scale"])
    expected = reference_cells.paper_block(
        inputs, mixer, norm, pre_scale=block["block_input_scale"], residual_kernel=block["residual_kernel"],
        mlp=(mlp, block["mlp_scale"], block["mlp_kernel"], block["mlp_output_kernel"]) if mlp else None,
        mixer_output=mixer_output)
    assert (block["residual_kernel"] is None) == (input_dim == UNITS)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(inputs)), expected, atol=5e-5)


def test_block_is_refused_where_it_does_not_apply():
    with pytest.raises(ValueError, match="cell 'rg_lru': `conv_width` is the width of its paper block's convolution"):
        get_cell("rg_lru").build(UNITS, return_sequences=False, return_state=False, conv_width=3)
    with pytest.raises(ValueError, match="`block` must be True or False"):
        get_cell("mlstm").build(UNITS, return_sequences=False, return_state=False, block="yes")
    with pytest.raises(ValueError, match="this cell has no paper block"):
        ProjectedRNN(rnnzoo.cells.min_rnn.MinGRUCell(UNITS, block=True))
