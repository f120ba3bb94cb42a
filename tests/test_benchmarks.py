"""The benchmarks' own pieces (their numbers are measured by their commands,
not here): the associative-recall task's sequences and its models."""

import numpy as np

from benchmarks import associative_recall as mqar


def test_recall_sequences_ask_each_key_once_after_its_pairs():
    rng = np.random.default_rng(0)
    pairs, keys, values = 4, 16, 16
    tokens, labels = mqar.make_batch(rng, 8, 40, pairs, keys, values)
    first_value = mqar.FIRST_KEY + keys
    for row_tokens, row_labels in zip(tokens, labels):
        stored = dict(zip(row_tokens[0:2 * pairs:2], row_tokens[1:2 * pairs:2]))
        assert len(stored) == pairs and all(mqar.FIRST_KEY <= k < first_value for k in stored)
        queries = np.flatnonzero(row_labels)
        assert len(queries) == pairs and queries.min() >= 2 * pairs
        asked = row_tokens[queries]
        assert sorted(asked) == sorted(stored)  # every key once
        # The label is the stored value's index + 1.
        np.testing.assert_array_equal(row_labels[queries], [stored[k] - first_value + 1 for k in asked])
        assert set(np.delete(row_tokens, np.r_[np.arange(2 * pairs), queries])) == {mqar.FILLER}


def test_recall_models_take_the_paper_block():
    plain = mqar.build("rg_lru", 16, vocab_size=34, values=16, embedding_dim=8)
    block = mqar.build("rg_lru:block", 16, vocab_size=34, values=16, embedding_dim=8)
    assert block.count_params() > plain.count_params()
    assert [layer.cell.block for layer in block.layers if hasattr(layer, "cell")] == [True, True]
