"""Tokenizers, vocabularies and batching inside tf.data."""

import numpy as np
import pytest
import tensorflow as tf

from rnnzoo import data
from rnnzoo.data import PAD_ID, UNK_ID, DataFormatError

TEXTS = ["The cat sat on the mat.", "The dog sat, then ran!", "A cat and a dog ran."]


def _strings(ragged):
    return [[t.decode() for t in row] for row in ragged.to_list()]


def test_word_tokenizer_options():
    assert _strings(data.WordTokenizer(standardize=None).tokenize(["The  CAT sat."])) == [["the", "cat", "sat."]]
    assert _strings(data.WordTokenizer().tokenize(["The  CAT sat."])) == [["the", "cat", "sat", "."]]
    script = data.WordTokenizer(split="unicode_script", lowercase=False)
    assert _strings(script.tokenize(["Hi, Bob!"])) == [["Hi", ",", "Bob", "!"]]
    # NFKC folds the ligature and full-width letters; case folding lowercases.
    assert _strings(data.WordTokenizer().tokenize(["\ufb01ne \uff21"])) == [["fine", "a"]]
    assert _strings(data.WordTokenizer(normalization=None, lowercase=False).tokenize(["\ufb01"])) == [["\ufb01"]]
    with pytest.raises(ValueError, match="split must be one of"):
        data.WordTokenizer(split="spaces")
    with pytest.raises(ValueError, match="standardize must be one of"):
        data.WordTokenizer(standardize="ptb")


def test_non_ascii_spaces_split_words_whole():
    # tensorflow-text's whitespace splitter cut U+00A0 and U+0085 in half (b"8\xc2"), which SST-2's
    # "8\u00a01\\/2" hit with normalization off.
    for options in ({}, {"normalization": None, "lowercase": False}):
        tokens = _strings(data.WordTokenizer(**options).tokenize(["8\u00a01 x", "a\u0085b\u3000c\u2028d"]))
        assert tokens == [["8", "1", "x"], ["a", "b", "c", "d"]]


# Raw text and the same text as the Penn Treebank tokenizes it (SST, EWT).
RAW_AND_TREEBANK = [
    ("Isn't it (really) good? I can't say.", "is n't it -lrb- really -rrb- good ? i ca n't say ."),
    ("The actors' \"best\" film... of the '70s, by Mr. Smith -- 3.5 stars; 1,000 fans!",
     "the actors ' `` best '' film ... of the '70s , by mr. smith -- 3.5 stars ; 1,000 fans !"),
    ("He said \u2018hi\u2019 and we\u2019re off\u2014it cannot cost $9.50/day.",
     "he said ` hi ' and we 're off -- it can not cost $ 9.50\\/day ."),
    ("It's Dante's 'abandon all hope'...", "it 's dante 's ` abandon all hope ' ..."),
]


@pytest.mark.parametrize("kind", ["word", "wordpiece"])
def test_raw_text_and_treebank_tokenized_text_give_the_same_tokens(kind):
    tokenizer = data.get_tokenizer(kind)
    if kind == "wordpiece":
        tokenizer.train([treebank for _, treebank in RAW_AND_TREEBANK] * 5)
    for raw, treebank in RAW_AND_TREEBANK:
        assert _strings(tokenizer.tokenize([raw])) == _strings(tokenizer.tokenize([treebank])), raw
    tokens = _strings(data.WordTokenizer().tokenize([RAW_AND_TREEBANK[0][0]]))[0]
    assert tokens == ["is", "n't", "it", "(", "really", ")", "good", "?", "i", "ca", "n't", "say", "."]


@pytest.mark.parametrize("kind", ["word", "wordpiece", "character"])
def test_every_tokenizer_config_round_trips(kind):
    tokenizer = data.get_tokenizer(kind)
    if kind == "wordpiece":
        tokenizer.train(TEXTS * 5)
    restored = data.tokenizers.tokenizer_from_config(tokenizer.get_config())
    assert restored.get_config() == tokenizer.get_config()
    assert _strings(restored.tokenize(TEXTS)) == _strings(tokenizer.tokenize(TEXTS))


def test_tokenizer_saved_before_standardization_keeps_splitting_on_whitespace():
    old = data.tokenizers.tokenizer_from_config({"kind": "word", "lowercase": True, "normalization": "NFKC",
                                                 "split": "whitespace"})
    assert old.standardize is None
    assert _strings(old.tokenize(["Good."])) == [["good."]]
    new = data.tokenizers.tokenizer_from_config(data.WordTokenizer().get_config())
    assert new.standardize == "punctuation"


def test_character_tokenizer_round_trips_text_with_newlines():
    tokenizer = data.CharacterTokenizer()
    tokens = tokenizer.tokenize(["h\u00e9\nllo"])
    assert _strings(tokens) == [["h", "\u00e9", "\n", "l", "l", "o"]]
    assert tokenizer.detokenize(tokens)[0].numpy().decode() == "h\u00e9\nllo"


def test_wordpiece_learns_pieces_and_splits_unseen_words():
    texts = ["running runner runs", "jumping jumper jumps", "walking walker walks"] * 30
    tokenizer = data.WordPieceTokenizer(vocab_size=60).train(texts)
    assert "##ing" in tokenizer.pieces or "##g" in tokenizer.pieces
    tokens = _strings(tokenizer.tokenize(["walkers jumping"]))[0]
    assert len(tokens) >= 2 and all(t != "<unk>" for t in tokens)
    assert any(t.startswith("##") for t in tokens)  # an unseen word made of pieces
    assert tokenizer.detokenize(tokenizer.tokenize(["walkers jumping"]))[0].numpy().decode() == "walkers jumping"
    with pytest.raises(ValueError, match="call train"):
        data.WordPieceTokenizer().tokenize(["x"])


def test_vocabulary_reserved_ids_min_frequency_and_max_size():
    vocabulary = data.Vocabulary.build([["b", "a", "b", "c"], ["b", "a", "d"]], min_frequency=2)
    assert vocabulary.tokens == list(data.RESERVED_TOKENS) + ["b", "a"]
    assert vocabulary.lookup(["a", "zzz"]) == [5, UNK_ID]
    assert data.Vocabulary.build([["b", "a", "b", "c"]], max_size=5).tokens[4:] == ["b"]
    tags = data.Vocabulary.build([["NOUN", "VERB", "NOUN"]], reserved=("<pad>",))
    assert tags.lookup(["NOUN", "VERB"]) == [1, 2]
    with pytest.raises(ValueError, match="'ADJ' is not in the vocabulary"):
        tags.lookup(["ADJ"])


def test_vocabulary_file_round_trip_is_exact(tmp_path):
    tokens = ["a", "\n", " ", "\\n", "\\", "caf\u00e9", "\t", "<b>"]
    vocabulary = data.Vocabulary.build([tokens])
    vocabulary.save(tmp_path / "vocabulary.txt")
    restored = data.Vocabulary.load(tmp_path / "vocabulary.txt")
    assert restored == vocabulary and restored.tokens[4:] == sorted(tokens)


@pytest.mark.parametrize("content, message", [
    ("<pad>\n<unk>\n<start>\n<end>\na\n\nb\n", ":6: empty line"),
    ("<pad>\n<start>\n<unk>\n<end>\na\n", ":2: expected reserved token '<unk>'"),
    ("<pad>\n<unk>\n<start>\n<end>\na\nb\na\n", ":7: token 'a' appears twice"),
    ("<pad>\n<unk>\n<start>\n<end>\n", "fewer than the reserved ones"),
])
def test_bad_vocabulary_files_are_refused(tmp_path, content, message):
    path = tmp_path / "vocabulary.txt"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message):
        data.Vocabulary.load(path)


def test_text_encoder_in_tf_data_and_saved_folder(tmp_path):
    encoder = data.TextEncoder.adapt(TEXTS, tokenizer="word", split="unicode_script")
    dataset = tf.data.Dataset.from_tensor_slices(TEXTS + ["the zebra sat"]).map(encoder.encode)
    rows = [row.numpy().tolist() for row in dataset]
    assert rows[0] == encoder.vocabulary.lookup(["the", "cat", "sat", "on", "the", "mat", "."])
    assert rows[-1][1] == UNK_ID and PAD_ID not in sum(rows, [])
    assert encoder.decode([rows[0] + [3, 0, 0]]) == ["the cat sat on the mat ."]  # stops at END_ID
    encoder.save(tmp_path / "source")
    restored = data.TextEncoder.load(tmp_path / "source")
    assert restored.vocabulary == encoder.vocabulary
    assert restored.tokenizer.get_config() == encoder.tokenizer.get_config()
    assert restored.encode(TEXTS).to_list() == encoder.encode(TEXTS).to_list()
    (tmp_path / "source" / "tokenizer.json").write_text('{"kind": "morse"}')
    with pytest.raises(ValueError, match="tokenizer.json: unknown tokenizer 'morse'"):
        data.TextEncoder.load(tmp_path / "source")


def test_wordpiece_encoder_round_trips_through_its_folder(tmp_path):
    encoder = data.TextEncoder.adapt(TEXTS * 10, tokenizer="wordpiece", vocab_size=50)
    encoder.save(tmp_path / "wp")
    restored = data.TextEncoder.load(tmp_path / "wp")
    assert restored.encode(["the cats ran"]).to_list() == encoder.encode(["the cats ran"]).to_list()


def _lengths_and_labels(count=200, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 60, size=count)
    return [list(rng.integers(4, 50, size=n)) for n in lengths], [int(n % 2) for n in lengths]


def test_bucketing_pads_on_the_right_and_less_than_padding_to_the_longest():
    sequences, labels = _lengths_and_labels()
    dataset = data.ragged_dataset(sequences, labels)
    bucketed = data.batch_dataset(dataset, batch_size=8, shuffle_buffer=200, seed=0)
    seen = 0
    for tokens, batch_labels in bucketed:
        tokens = tokens.numpy()
        real = tokens != PAD_ID
        # Right padding: every row is real tokens, then only padding.
        assert (np.sort(real, axis=1)[:, ::-1] == real).all()
        for row, label in zip(tokens, batch_labels.numpy()):
            assert label == int(((row != PAD_ID).sum()) % 2)  # labels stay with their sequence
        seen += len(tokens)
    assert seen == len(sequences)
    plain = data.batch_dataset(dataset, batch_size=8, boundaries=None, shuffle_buffer=200, seed=0)
    assert data.padded_fraction(bucketed) < 0.10 < data.padded_fraction(plain)


def test_bucket_boundaries_grow_geometrically():
    boundaries = data.bucket_boundaries([1, 5, 40, 100])
    assert boundaries[0] == 2 and boundaries[-1] <= 100
    ratios = np.array(boundaries[1:]) / np.array(boundaries[:-1])
    assert (ratios <= 1.1 + 1 / np.array(boundaries[:-1])).all()
    with pytest.raises(ValueError, match="at least one length"):
        data.bucket_boundaries([])


def test_pad_rows_pads_on_the_right_cuts_and_keeps_float_types():
    from rnnzoo.data.batching import pad_rows

    padded = pad_rows([[5, 6, 7], [8], []])
    assert padded.dtype == np.int32 and padded.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]
    assert pad_rows([[5, 6, 7], [8]], length=2).tolist() == [[5, 6], [8, 0]]
    assert pad_rows([[]]).shape == (1, 1)
    characters = pad_rows([np.ones((2, 4), "int64"), np.ones((1, 2), "int64")], length=3, inner=(3,))
    assert characters.shape == (2, 3, 3) and characters.dtype == np.int32 and characters.sum() == 2 * 3 + 2
    features = pad_rows([np.full((2, 3), 0.5, "float32"), np.full((1, 3), 0.5, "float32")])
    assert features.dtype == np.float32 and features[1, 1].tolist() == [0, 0, 0]


def test_in_length_order_batches_short_rows_together_and_keeps_the_order():
    from rnnzoo.data.batching import in_length_order

    rows = [[1] * n for n in (5, 1, 4, 2, 3)]
    widths = []

    def lengths(batch):
        widths.append(batch.shape[1])
        return [int((row != PAD_ID).sum()) for row in batch]

    assert in_length_order(lengths, rows, batch_size=2) == [5, 1, 4, 2, 3]
    assert widths == [2, 4, 5]


def test_the_stop_rule_and_start_end_packing_are_one_rule_in_python_and_in_the_graph():
    from rnnzoo.data import END_ID, START_ID, TextEncoder, teacher_forcing, until_end

    rows = [[7, 8, END_ID, 9, 0], [7, PAD_ID, 8, 0, 0], [9, 9, 9, 9, 9], [END_ID, 7, 0, 0, 0]]
    assert [until_end(row) for row in rows] == [[7, 8], [7], [9, 9, 9, 9, 9], []]
    assert [until_end(row, include_end=True) for row in rows] == [[7, 8, END_ID], [7], [9] * 5, [END_ID]]
    encoder = TextEncoder.adapt(["a b c d e f"], tokenizer="word")
    ids = [encoder.vocabulary.index[t] for t in "a b c".split()]
    row = [*ids, END_ID, ids[0], 0]
    graph = encoder.decode([row])[0]
    assert graph == encoder.decode([until_end(row)])[0] == "a b c"
    decoder_inputs, labels = teacher_forcing([ids, []])
    assert decoder_inputs == [[START_ID, *ids], [START_ID]] and labels == [[*ids, END_ID], [END_ID]]
