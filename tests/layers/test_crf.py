"""The CRF layer against brute-force enumeration, BIO constraints, and the
CRF tagger end to end (training, save/load, character inputs)."""

import itertools

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.layers import CRF
from rnnzoo.layers.crf import bio_allowed

NER_TAGS = ["<pad>", "O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def _random_crf(num_tags, rng, **kwargs):
    crf = CRF(num_tags, **kwargs)
    crf.build((None, None, num_tags))
    for weight in (crf.transitions, crf.start_transitions, crf.end_transitions):
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    return crf


def _path_score(crf, emissions, path, allowed=None):
    start, transitions, end = (np.asarray(w) for w in (crf.start_transitions, crf.transitions,
                                                          crf.end_transitions))
    score = start[path[0]] + end[path[-1]] + sum(emissions[t, k] for t, k in enumerate(path))
    score += sum(transitions[a, b] for a, b in zip(path, path[1:]))
    if allowed is not None:
        start_ok, moves_ok, end_ok = allowed
        ok = start_ok[path[0]] and end_ok[path[-1]] and all(moves_ok[a, b] for a, b in zip(path, path[1:]))
        score = score if ok else -np.inf
    return score


def test_crf_matches_brute_force_enumeration():
    rng = np.random.default_rng(0)
    num_tags, lengths = 4, [5, 3, 1]
    crf = _random_crf(num_tags, rng)
    emissions = rng.normal(size=(3, 5, num_tags)).astype("float32")
    mask = np.array([[t < n for t in range(5)] for n in lengths])
    tags = rng.integers(num_tags, size=(3, 5)) * mask
    log_z = keras.ops.convert_to_numpy(crf.log_partition(emissions, mask))
    nll = keras.ops.convert_to_numpy(crf.negative_log_likelihood(emissions, tags, mask))
    best = keras.ops.convert_to_numpy(crf.viterbi_decode(emissions, mask))
    marginals = keras.ops.convert_to_numpy(crf.marginals(emissions, mask))
    for b, n in enumerate(lengths):
        paths = list(itertools.product(range(num_tags), repeat=n))
        scores = np.array([_path_score(crf, emissions[b], p) for p in paths])
        expected_z = np.log(np.exp(scores).sum())
        assert log_z[b] == pytest.approx(expected_z, abs=1e-4)
        assert nll[b] == pytest.approx(expected_z - _path_score(crf, emissions[b], tags[b, :n]), abs=1e-4)
        assert best[b, :n].tolist() == list(paths[int(scores.argmax())])
        assert (best[b, n:] == 0).all()
        weights = np.exp(scores - expected_z)
        expected = np.zeros((n, num_tags))
        for path, weight in zip(paths, weights):
            expected[np.arange(n), list(path)] += weight
        np.testing.assert_allclose(marginals[b, :n], expected, atol=1e-5)
        assert (marginals[b, n:] == 0).all()


def test_bio_table_allows_only_valid_moves():
    start, moves, end = bio_allowed(NER_TAGS)
    index = {t: i for i, t in enumerate(NER_TAGS)}
    assert start[index["B-PER"]] and start[index["O"]] and not start[index["I-PER"]]
    assert moves[index["B-PER"], index["I-PER"]] and moves[index["I-PER"], index["I-PER"]]
    assert not moves[index["O"], index["I-PER"]] and not moves[index["B-LOC"], index["I-PER"]]
    assert not moves[:, 0].any() and not moves[0, :].any() and not start[0] and not end[0]
    with pytest.raises(ValueError, match="tag_names\\[1\\].*'NOUN' is not a BIO tag"):
        bio_allowed(["<pad>", "NOUN"])


def test_constrained_viterbi_never_emits_invalid_bio():
    rng = np.random.default_rng(1)
    crf = _random_crf(len(NER_TAGS), rng, tag_names=NER_TAGS, constraints="bio")
    # Emissions that favour I- tags and padding, so unconstrained decoding would break BIO.
    emissions = rng.normal(size=(64, 7, len(NER_TAGS))).astype("float32")
    emissions[:, :, [0, 3, 5]] += 3.0
    lengths = rng.integers(1, 8, size=64)
    mask = np.arange(7)[None] < lengths[:, None]
    decoded = keras.ops.convert_to_numpy(crf.viterbi_decode(emissions, mask))
    allowed = bio_allowed(NER_TAGS)
    for row, n in zip(decoded, lengths):
        tags = [NER_TAGS[i] for i in row[:n]]
        assert "<pad>" not in tags
        for previous, current in zip(["O"] + tags, tags):
            if current.startswith("I-"):
                assert previous in (f"B-{current[2:]}", current), tags
    # And it is the best *valid* path (checked by enumeration on short rows).
    for b in np.flatnonzero(lengths <= 3)[:5]:
        n = lengths[b]
        paths = list(itertools.product(range(len(NER_TAGS)), repeat=n))
        scores = [_path_score(crf, emissions[b], p, allowed) for p in paths]
        assert decoded[b, :n].tolist() == list(paths[int(np.argmax(scores))])
    unconstrained = _random_crf(len(NER_TAGS), np.random.default_rng(1))
    raw = np.asarray(unconstrained.viterbi_decode(emissions, mask))
    assert (raw[mask] == 0).any() or any(NER_TAGS[i].startswith("I-") for i in raw[:, 0]), \
        "the test emissions should tempt an unconstrained CRF into invalid tags"


def test_crf_arguments_are_checked():
    with pytest.raises(ValueError, match="constraints"):
        CRF(3, constraints="bioes")
    with pytest.raises(ValueError, match="needs `tag_names`"):
        CRF(3, constraints="bio")
    with pytest.raises(ValueError, match="2 names for num_tags=3"):
        CRF(3, tag_names=["<pad>", "O"])
    with pytest.raises(ValueError, match="crf_constraints"):
        rnnzoo.build_model("many_to_many", vocab_size=9, num_classes=3, crf_constraints="bio")
    with pytest.raises(ValueError, match="output_layer"):
        rnnzoo.build_model("many_to_many", vocab_size=9, num_classes=3, output_layer="sigmoid")


def _tagging_batch(rng, num_tags, with_chars):
    tokens = rng.integers(1, 20, size=(16, 7))
    tokens[:8, 5:] = 0
    tags = np.where(tokens > 0, 1 + tokens % (num_tags - 1), 0)  # learnable: tag follows the word
    x = {"tokens": tokens}
    if with_chars:
        chars = rng.integers(1, 12, size=(16, 7, 4))
        x["characters"] = chars * (tokens > 0)[:, :, None]
    return x if with_chars else tokens, tags


@pytest.mark.parametrize("with_chars", [False, True])
def test_crf_tagger_trains_saves_and_decodes(tmp_path, with_chars):
    rng = np.random.default_rng(0)
    model = rnnzoo.build_model(
        "bilstm_crf_tagger", vocab_size=20, num_classes=len(NER_TAGS), units=8, embedding_dim=8,
        tag_names=NER_TAGS, crf_constraints="bio", char_vocab_size=12 if with_chars else None,
    )
    x, y = _tagging_batch(rng, len(NER_TAGS), with_chars)
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0)[0]
    assert after < before
    tags = model.predict_tags(x)
    tokens = x["tokens"] if with_chars else x
    assert tags.shape == tokens.shape and (tags[tokens == 0] == 0).all() and (tags[tokens > 0] > 0).all()
    # Extra padding changes nothing at real positions (masks reach the BiLSTM).
    padded = {k: np.pad(v, [(0, 0), (0, 3)] + [(0, 0)] * (v.ndim - 2)) for k, v in
              (x if with_chars else {"tokens": x}).items()}
    logits = np.asarray(model.predict(x, verbose=0))
    more = np.asarray(model.predict(padded if with_chars else padded["tokens"], verbose=0))
    np.testing.assert_allclose(more[:, :7], logits, atol=1e-5)
    path = str(tmp_path / "tagger.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(restored.predict_tags(x), tags)
    np.testing.assert_allclose(restored.evaluate(x, y, verbose=0)[0], after, rtol=1e-5)


def test_crf_handles_batches_of_single_step_sequences():
    rng = np.random.default_rng(3)
    crf = _random_crf(3, rng)
    emissions = rng.normal(size=(4, 1, 3)).astype("float32")
    start, end = keras.ops.convert_to_numpy(crf.start_transitions), keras.ops.convert_to_numpy(crf.end_transitions)
    expected = emissions[:, 0] + start + end
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(crf.viterbi_decode(emissions))[:, 0], expected.argmax(-1))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(crf.log_partition(emissions)),
                               np.log(np.exp(expected).sum(-1)), atol=1e-5)
    shifted = np.exp(expected - expected.max(-1, keepdims=True))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(crf.marginals(emissions))[:, 0],
                               shifted / shifted.sum(-1, keepdims=True), atol=1e-5)
    # And inside a compiled training step (where the scan length is unknown).
    model = rnnzoo.build_model("bilstm_crf_tagger", vocab_size=9, num_classes=3, units=4, embedding_dim=4)
    history = model.fit(rng.integers(1, 9, size=(8, 1)), rng.integers(1, 3, size=(8, 1)), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
