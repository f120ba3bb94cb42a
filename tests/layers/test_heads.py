"""Output heads (`rnnzoo.layers.heads`) on fixed inputs, against brute-force
enumeration: each head's loss, decoding and probabilities, and the
`many_to_many` model that delegates to them."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

import rnnzoo
from rnnzoo.layers.heads import CRFHead, CTCHead, SoftmaxHead


def _log_softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def test_softmax_head_skips_padding_in_decoding_and_probabilities():
    logits = np.array([[[9.0, 1.0, 2.0], [9.0, 3.0, 0.5], [0.0, 0.0, 5.0]]], "float32")
    mask = np.array([[True, True, False]])
    head = SoftmaxHead(ignore_class=0)
    assert np.asarray(head.decode(logits, mask)).tolist() == [[2, 1, 0]]  # label 0 is never predicted
    probabilities = np.asarray(head.probabilities(logits, mask))
    np.testing.assert_allclose(probabilities[0, :2].sum(-1), 1.0, rtol=1e-6)
    assert probabilities[0, 2].tolist() == [0.0, 0.0, 0.0]
    assert head.compute_loss(None, None, None, None, None) is None  # Keras' compiled loss applies


def _ctc_brute_force_nll(log_probabilities, label):
    """-log of the summed probability of every frame path that collapses
    (merge repeats, drop blanks) to `label`."""
    frames, classes = log_probabilities.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=frames):
        collapsed = [c for c, _ in itertools.groupby(path) if c != 0]
        if collapsed == label:
            total += np.exp(sum(log_probabilities[t, c] for t, c in enumerate(path)))
    return -np.log(total)


def test_ctc_head_loss_and_decoding_match_brute_force():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 3)).astype("float32")
    labels = np.array([[1, 2], [2, 0]], "int32")  # the second is one label, right-padded
    x = np.ones((2, 4, 5), "float32")
    x[1, 3] = 0.0  # the second example has 3 real frames
    model = rnnzoo.build_model("many_to_many", input_dim=5, num_classes=3, output_layer="ctc", units=4)
    loss = float(model.head.compute_loss(model, x, labels, ops.convert_to_tensor(logits), None))
    log_probabilities = _log_softmax(logits.astype("float64"))
    expected = np.mean([_ctc_brute_force_nll(log_probabilities[0], [1, 2]),
                        _ctc_brute_force_nll(log_probabilities[1, :3], [2])])
    assert loss == pytest.approx(expected, rel=1e-4)
    best_path = log_probabilities.argmax(-1)
    greedy = [[c for c, _ in itertools.groupby(row[:n]) if c != 0] for row, n in zip(best_path, [4, 3])]
    assert CTCHead().decode_sequences(logits, [4, 3]) == greedy
    with pytest.raises(ValueError, match="use ctc_decode"):
        CTCHead().decode(logits, np.ones((2, 4), bool))


def test_crf_head_loss_decoding_and_marginals_match_brute_force():
    model = rnnzoo.build_model("many_to_many", vocab_size=7, num_classes=4, output_layer="crf", units=4)
    assert isinstance(model.head, CRFHead)
    crf = model.get_layer("crf")
    rng = np.random.default_rng(1)
    crf.set_weights([rng.normal(size=w.shape).astype("float32") for w in crf.get_weights()])
    emissions = rng.normal(size=(1, 3, 4)).astype("float32")
    mask = np.ones((1, 3), bool)
    tags = np.array([[2, 3, 1]], "int32")
    # Brute force over every tag sequence, scored by the CRF itself.
    sequences = [np.array([s], "int32") for s in itertools.product(range(4), repeat=3)]
    nll = {tuple(s[0]): float(keras.ops.convert_to_numpy(crf.negative_log_likelihood(emissions, s, mask))[0])
           for s in sequences}
    best = min(nll, key=nll.get)
    assert keras.ops.convert_to_numpy(model.head.decode(emissions, mask))[0].tolist() == list(best)
    assert sum(np.exp(-v) for v in nll.values()) == pytest.approx(1.0, rel=1e-4)
    marginals = keras.ops.convert_to_numpy(model.head.probabilities(emissions, mask))[0]
    expected = np.zeros((3, 4))
    for sequence, value in nll.items():
        for t, tag in enumerate(sequence):
            expected[t, tag] += np.exp(-value)
    np.testing.assert_allclose(marginals, expected, atol=1e-4)
    loss = float(model.head.compute_loss(model, None, tags, ops.convert_to_tensor(emissions), None))
    assert loss == pytest.approx(nll[(2, 3, 1)] / 3, rel=1e-5)  # per real token


def test_old_models_get_their_head_from_the_config(tmp_path):
    model = rnnzoo.build_model("many_to_many", vocab_size=7, num_classes=4, output_layer="crf", units=4)
    model.save(tmp_path / "tagger.keras")
    loaded = keras.saving.load_model(tmp_path / "tagger.keras")
    assert isinstance(loaded.head, CRFHead) and loaded.head.crf is loaded.get_layer("crf")
    x = np.array([[1, 2, 3, 0]], "int32")
    np.testing.assert_array_equal(loaded.predict_tags(x), model.predict_tags(x))


def test_a_new_head_is_a_registry_entry_not_a_branch_in_the_topology(monkeypatch):
    """Issue 34: heads are objects the topology is handed; it asks the head for
    its layers, loss and decoding, and never reads the head's name."""
    from rnnzoo.layers import heads

    class ScaledSoftmaxHead(SoftmaxHead):
        name = "scaled"

        def attach(self, logits):
            return keras.layers.Rescaling(2.0, name="scale")(logits)

    monkeypatch.setitem(heads.HEADS, "scaled", ScaledSoftmaxHead)
    model = rnnzoo.build_model("many_to_many", vocab_size=12, num_classes=4, units=3, output_layer="scaled")
    assert isinstance(model.head, ScaledSoftmaxHead) and model.get_layer("scale") is not None
    assert model.crf is None
    with pytest.raises(ValueError, match="output_layer='crf' reads logits"):
        heads.get_head("crf", num_classes=4, output_activation="softmax")
    with pytest.raises(ValueError, match="`crf_constraints` needs output_layer='crf'"):
        rnnzoo.build_model("many_to_many", vocab_size=12, num_classes=4, units=3, crf_constraints="bio")
