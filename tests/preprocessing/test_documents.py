"""Documents as sentences of words: the sentence rule, Python and graph
encodings that agree, the cut at max_sentences x max_words."""

import numpy as np

from rnnzoo.data.batching import pad_rows
from rnnzoo.data.special_tokens import UNK_ID
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.preprocessing.documents import DocumentEncoder, document_sentences

DOCUMENTS = ["The film was great. I loved it!  \"Really?\" Yes.",
             "line one here .\nline two , fine .\n\n  line three\n",
             "", "   ", "no end at all", "a.b is not a break. Nor is 3.5 ."]


def test_sentences_are_lines_or_split_after_end_punctuation():
    assert document_sentences(DOCUMENTS) == [
        ["The film was great.", "I loved it!", "\"Really?\"", "Yes."],
        ["line one here .", "line two , fine .", "line three"],
        [], [], ["no end at all"], ["a.b is not a break.", "Nor is 3.5 ."]]


def test_graph_and_python_encodings_agree_and_cut_where_they_say():
    encoder = DocumentEncoder(TextEncoder.adapt(DOCUMENTS), max_sentences=3, max_words=4)
    rows = encoder.model_rows(DOCUMENTS)
    graph = encoder.model_inputs(DOCUMENTS).numpy()
    np.testing.assert_array_equal(pad_rows(rows)[:, :, :4], graph[:, : max(len(r) for r in rows), :4])
    assert not graph[:, 3:].any() and not graph[:, :, 4:].any()  # only padding past the cut
    assert [r.shape for r in rows][:2] == [(3, 4), (3, 4)]
    assert rows[2].tolist() == [[UNK_ID]] and rows[3].tolist() == [[UNK_ID]]  # no token: one <unk>
    flat = encoder.flat_model_inputs(DOCUMENTS).numpy()
    for row, expected in zip(flat, encoder.flat_rows(DOCUMENTS)):
        assert row[: len(expected)].tolist() == expected.tolist() and not row[len(expected):].any()
    assert encoder.sentences(DOCUMENTS)[0] == ["The film was great.", "I loved it!", "\"Really?\""]
