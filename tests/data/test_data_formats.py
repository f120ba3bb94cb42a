"""Loaders for each standard format: what they read, what they skip, and the
errors (file, line, what was expected) on malformed fixtures we write."""

import os
import wave

import numpy as np
import pytest

from rnnzoo import data
from rnnzoo.data import DataFormatError


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


CONLLU = """# sent_id = 1
# text = I can't go.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\t_
2\tca\tcan\tAUX\tMD\t_\t3\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t0\troot\t_\t_
3.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t0:root\t_
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_
"""


def test_conllu_reads_upos_and_xpos_and_skips_multiword_and_empty_nodes(tmp_path):
    path = write(tmp_path, "a.conllu", CONLLU)
    first, second = data.load_conllu(path)
    assert first.words == ["I", "ca", "n't", "."]
    assert first.tags == ["PRON", "AUX", "PART", "PUNCT"]
    assert second == data.TaggedSentence(["Hi"], ["INTJ"])  # no blank line at the end: still read
    assert data.load_conllu(path, tag="xpos")[0].tags == ["PRP", "MD", "RB", "."]


@pytest.mark.parametrize("line, message", [
    ("1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_", "expected 10 tab-separated columns, found 9"),
    ("x\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_", "expected a word ID"),
    ("5\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_", "word ID 5 follows ID 1"),
])
def test_conllu_errors_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path, "bad.conllu", "# c\n1\tA\ta\tDET\tDT\t_\t0\troot\t_\t_\n" + line + "\n")
    with pytest.raises(DataFormatError, match=message) as error:
        data.load_conllu(path)
    assert str(error.value).startswith(f"{path}:3:")


def test_bio_sentence_breaks_are_blank_or_tab_only_lines(tmp_path):
    path = write(tmp_path, "a.conll", "-DOCSTART-\tO\n\nParis\tB-LOC\nis\tO\n\t\nBob\tB-PER\nSmith\tI-PER\n \nhi O\n")
    sentences = data.load_bio(path)
    assert [s.words for s in sentences] == [["Paris", "is"], ["Bob", "Smith"], ["hi"]]
    assert sentences[1].tags == ["B-PER", "I-PER"]
    # CoNLL-2003's four columns: word first, entity tag last.
    path = write(tmp_path, "b.conll", "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n")
    assert data.load_bio(path)[0].tags == ["B-ORG", "O"]


@pytest.mark.parametrize("line, message", [("Paris", "expected `word<TAB>tag`"),
                                           ("Paris\tLOC", "expected a tag such as O")])
def test_bio_errors(tmp_path, line, message):
    path = write(tmp_path, "bad.conll", f"a\tO\n{line}\n")
    with pytest.raises(DataFormatError, match=f"{path}:2: {message}"):
        data.load_bio(path)


def test_sentiment_line_formats_and_folders(tmp_path):
    path = write(tmp_path, "sst", "1 a gripping film\n\n0 dull\n")
    assert data.load_labeled_lines(path) == [data.LabeledText("a gripping film", "1"),
                                             data.LabeledText("dull", "0")]
    path = write(tmp_path, "tsv", "a gripping film\tpos\nno\tneg\n")
    assert data.load_labeled_lines(path, "tab_label_last")[1] == data.LabeledText("no", "neg")
    with pytest.raises(DataFormatError, match=f"{path}:1: expected `label sentence`"):
        data.load_labeled_lines(path)  # a TSV file read as SST lines
    for label, texts in {"neg": ["bad<br />film"], "pos": ["good", "great"], "unsup": ["?"]}.items():
        os.makedirs(tmp_path / "imdb" / label)
        for i, text in enumerate(texts):
            (tmp_path / "imdb" / label / f"{i}_7.txt").write_text(text)
    examples = data.load_class_folders(tmp_path / "imdb", classes=("neg", "pos"))
    assert examples == [data.LabeledText("bad film", "neg", "neg/0_7.txt"), data.LabeledText("good", "pos", "pos/0_7.txt"),
                        data.LabeledText("great", "pos", "pos/1_7.txt")]
    assert len(data.load_class_folders(tmp_path / "imdb")) == 4  # every class folder by default
    with pytest.raises(FileNotFoundError, match="class folder 'other'"):
        data.load_class_folders(tmp_path / "imdb", classes=("other",))


def test_parallel_files_and_tsv_pairs(tmp_path):
    en = write(tmp_path, "a.en", "a dog\na cat\n")
    de = write(tmp_path, "a.de", "ein Hund\neine Katze\n")
    assert data.load_parallel(en, de)[1] == data.TextPair("a cat", "eine Katze")
    short = write(tmp_path, "b.de", "ein Hund\n")
    with pytest.raises(ValueError, match=r"a.en has 2 lines, .*b.de has 1"):
        data.load_parallel(en, short)
    blank = write(tmp_path, "c.de", "ein Hund\n \n")
    with pytest.raises(DataFormatError, match=f"{blank}:2: empty sentence"):
        data.load_parallel(en, blank)
    tsv = write(tmp_path, "fra.txt", "Go.\tVa !\tCC-BY 2.0 (France) Attribution\nHi.\tSalut !\n")
    assert data.load_tsv_pairs(tsv) == [data.TextPair("Go.", "Va !"), data.TextPair("Hi.", "Salut !")]
    bad = write(tmp_path, "bad.txt", "Go.\tVa !\nHi.\n")
    with pytest.raises(DataFormatError, match=f"{bad}:2: expected `source<TAB>target`"):
        data.load_tsv_pairs(bad)


def test_decoding_errors_name_the_encoding_and_encoding_option_works(tmp_path):
    path = write(tmp_path, "latin.txt", "1 great\n0 d\u00e9j\u00e0 vu\n", encoding="latin-1")
    with pytest.raises(DataFormatError, match=f"{path}:2: cannot decode .* as utf-8"):
        data.load_labeled_lines(path)
    assert data.load_labeled_lines(path, encoding="latin-1")[1].text == "d\u00e9j\u00e0 vu"
    with pytest.raises(DataFormatError, match=f"{path}:2: cannot decode"):
        data.load_text(path)


@pytest.mark.parametrize("loader", [data.load_conllu, data.load_bio, data.load_labeled_lines,
                                    data.load_tsv_pairs, data.load_text])
def test_empty_files_raise(tmp_path, loader):
    path = write(tmp_path, "empty.txt", "\n\n")
    with pytest.raises(DataFormatError, match=f"{path}: no .* found"):
        loader(path)


def test_plain_text_is_returned_unchanged(tmp_path):
    text = "First Citizen:\r\nBefore we proceed\n\nno newline at the end"
    assert data.load_text(write(tmp_path, "t.txt", text)) == text


def test_a_corpus_folder_reads_its_text_files_in_order_without_brown_tags(tmp_path):
    corpus = tmp_path / "corpus"
    for folder in ("a", "b"):
        (corpus / folder).mkdir(parents=True)
    write(corpus / "b", "ca01", "The/at jury/nn said/vbd ``/`` no/at ''/'' ./.\n\n\tIt/pps rained/vbd ./.\n")
    write(corpus / "a", "review.txt", "a fine film , 1/2 of it .\n")  # a slash, but not tagged text
    for name in ("README", "SOURCE.md", ".hidden", "LICENSE.txt"):
        write(corpus, name, "not the corpus\n")
    linked = tmp_path / "linked"
    linked.mkdir()
    os.symlink(corpus / "a", linked / "a")
    expected = "a fine film , 1/2 of it .\nThe jury said `` no '' .\nIt rained .\n"
    assert data.load_text(str(corpus)) == expected
    assert data.load_text(str(linked)) == "a fine film , 1/2 of it .\n"  # through a linked folder
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no text file"):
        data.load_text(str(empty))


def _write_png(path, array):
    import tensorflow as tf
    tf.io.write_file(str(path), tf.io.encode_png(array))


def test_captions_file_and_image_folder(tmp_path):
    os.makedirs(tmp_path / "images")
    _write_png(tmp_path / "images" / "a.png", np.full((6, 4, 3), 255, "uint8"))
    _write_png(tmp_path / "images" / "b.png", np.zeros((6, 4, 3), "uint8"))
    captions = write(tmp_path, "captions.txt",
                     "a.png#0\tA white square .\na.png#1\tSomething white\nb.png#0\tDarkness\n")
    examples = data.load_captions(captions, tmp_path / "images")
    assert [len(e.captions) for e in examples] == [2, 1]
    image = data.load_image(examples[0].image, image_size=(8, 8))
    assert image.shape == (8, 8, 3) and image.dtype == np.float32 and np.allclose(image, 1.0)
    missing = write(tmp_path, "missing.txt", "a.png#0\tfine\nc.png#0\tgone\n")
    with pytest.raises(DataFormatError, match=f"{missing}:2: image 'c.png' is not in"):
        data.load_captions(missing, tmp_path / "images")
    malformed = write(tmp_path, "malformed.txt", "a.png A white square\n")
    with pytest.raises(DataFormatError, match=f"{malformed}:1: expected `image.jpg#0<TAB>caption`"):
        data.load_captions(malformed, tmp_path / "images")
    not_image = write(tmp_path, "images/c.png", "not a png")
    with pytest.raises(DataFormatError, match="not a readable image"):
        data.load_image(not_image)


def _write_wav(path, samples, rate=8000):
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes((np.asarray(samples) * 32767).astype("<i2").tobytes())


def test_audio_folder_labels_from_file_names(tmp_path):
    for name in ["3_jackson_0.wav", "3_jackson_12.wav", "7_nicolas_4.wav"]:
        _write_wav(tmp_path / name, np.sin(np.linspace(0, 20, 800)) * 0.5)
    (tmp_path / "README.md").write_text("not audio")
    clips = data.list_audio_clips(tmp_path)
    assert [(c.label, c.speaker, c.index) for c in clips] == [("3", "jackson", 0), ("3", "jackson", 12),
                                                              ("7", "nicolas", 4)]
    train, test = data.split_fsdd(clips)
    assert [c.index for c in train] == [12] and [c.index for c in test] == [0, 4]
    samples, rate = data.read_wav(clips[0].path)
    assert rate == 8000 and samples.shape == (800,) and samples.dtype == np.float32
    assert abs(float(np.abs(samples).max()) - 0.5) < 1e-3
    (tmp_path / "noise.wav").write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(DataFormatError, match="noise.wav: expected a name like"):
        data.list_audio_clips(tmp_path)
    bad = tmp_path / "bad" / "1_x_1.wav"
    os.makedirs(bad.parent)
    bad.write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(DataFormatError, match="not a PCM wav file"):
        data.read_wav(bad)


def test_random_split_is_seeded_and_disjoint():
    rest, held = data.random_split(range(100), 0.05, seed=3)
    assert len(held) == 5 and sorted(rest + held) == list(range(100))
    assert data.random_split(range(100), 0.05, seed=3)[1] == held
    with pytest.raises(ValueError, match="fraction"):
        data.random_split(range(10), 1.5)


def test_cross_validation_folds_go_by_file_name(tmp_path):
    from rnnzoo.data.datasets import file_prefix_folds

    for label in ("neg", "pos"):
        (tmp_path / label).mkdir()
        for fold in range(3):
            for index in range(4):
                (tmp_path / label / f"cv{fold}{index:02d}_{index}.txt").write_text(f"{label} {fold}.\n",
                                                                                    encoding="utf-8")
    examples = data.load_class_folders(tmp_path)
    assert examples[0].source == "neg/cv000_0.txt"
    splits = file_prefix_folds(1, folds=3)(examples, seed=0)
    assert {e.text for e in splits["test"]} == {"neg 1.", "pos 1."} and len(splits["test"]) == 8
    assert len(splits["train"]) + len(splits["validation"]) == 16
    assert not {e.source for e in splits["test"]} & {e.source for e in splits["train"] + splits["validation"]}
    (tmp_path / "pos" / "review.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="review.txt: cross-validation folds need files named cv0"):
        file_prefix_folds(0, folds=3)(data.load_class_folders(tmp_path), seed=0)
