"""The document classification recipe on built-in reviews: a run folder that
is a preset, a SavedModel taking raw documents and returning each sentence's
attention, TFLite at max_sentences x max_words, attention pictures,
`rnnzoo predict` on a text file, and the cross-validation summary."""

import json
import os

import numpy as np
import pytest

import rnnzoo
from rnnzoo import cli
from rnnzoo.tasks import document_classification as documents
from rnnzoo.tasks.recipe import SMOKE_EXPORT_CHECKED

REVIEW = ("the story follows a painter who finds a map .\n"
          "all in all , the film was not very good .\n"
          "the cast was <great> & fresh .\n"
          "later the painter leaves home again .")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    output = tmp_path_factory.mktemp("out")
    cli.main(["run", "document_classification", "--smoke", "--epochs", "1", "--units", "6", "--embedding-dim", "8",
              "--max-sentences", "8", "--max-words", "12", "--verbose", "0", "--output", str(output)])
    (name,) = os.listdir(output / "document_classification")
    return str(output / "document_classification" / name)


def test_smoke_run_serves_raw_documents_with_sentence_attention(run_folder):
    import tensorflow as tf

    for name in ("model.keras", "tokens/vocabulary.txt", "labels.txt", "task.json", "metadata.json", "README.md",
                 "saved_model/saved_model.pb", "tflite/model.tflite", "attention.png", "attention.html"):
        assert os.path.exists(os.path.join(run_folder, name)), name
    task = rnnzoo.load(run_folder)
    assert type(task).__name__ == "DocumentClassifier" and task.get_config() == {"max_sentences": 8, "max_words": 12}
    texts = [REVIEW, "One sentence only. And a second! ", "", "\n".join(["a line ."] * 20)]
    served = tf.saved_model.load(os.path.join(run_folder, "saved_model")).signatures["serving_default"](
        text=tf.constant(texts))
    expected = task.predict_probabilities(texts)
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert [s.decode() for s in served["label"].numpy()] == [name for name, _ in task.predict(texts)]
    weights, sentences = served["sentence_attention"].numpy(), served["sentences"].numpy()
    real = sentences != b""
    assert sentences.shape[1] == 8  # the 20-line document is cut at max_sentences
    assert [s.decode() for s in sentences[1][real[1]]] == ["One sentence only.", "And a second!"]
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)  # an empty document reads as one <unk> sentence
    assert np.all(weights[[0, 1, 3]][~real[[0, 1, 3]]] == 0) and weights[2, 0] == pytest.approx(1.0)
    explained = task.explain([REVIEW])[0]
    assert [row[0] for row in explained["sentences"]] == REVIEW.split("\n")
    np.testing.assert_allclose([row[1] for row in explained["sentences"]], weights[0][:4], atol=1e-5)
    words = [w for w, _ in explained["sentences"][2][2]]
    assert words == ["the", "cast", "was", "<great>", "&", "fresh", "."]  # as read, words unseen in training too
    np.testing.assert_allclose(sum(w for _, w in explained["sentences"][2][2]), 1.0, atol=1e-5)
    page = open(os.path.join(run_folder, "attention.html"), encoding="utf-8").read()
    assert page.count("<h2>Document") == 3 and "<script" not in page
    from rnnzoo.metrics import document_attention_html

    document_attention_html(task.explain([REVIEW]), str(os.path.join(run_folder, "review.html")), "a <title>")
    page = open(os.path.join(run_folder, "review.html"), encoding="utf-8").read()
    assert "&lt;great&gt;</span>" in page and "&lt;title&gt;" in page and "<great>" not in page


def test_tflite_reads_sentences_of_words_at_the_fixed_size(run_folder):
    from rnnzoo.exporting import load_tflite, run

    report = json.load(open(os.path.join(run_folder, "metrics.json")))["extra"]["tflite"]
    assert report["examples"] == SMOKE_EXPORT_CHECKED and report["tflite"]["parity_max_abs_diff"] < 1e-4
    assert report["tflite"]["inputs"] == {"tokens": [1, 8, 12]}
    task = rnnzoo.load(run_folder)
    ids = task.token_ids([REVIEW])[0]
    padded = np.zeros((1, 8, 12), "int32")
    padded[0, : ids.shape[0], : ids.shape[1]] = ids
    interpreter = load_tflite(os.path.join(run_folder, "tflite"))
    found = next(iter(run(interpreter, {"tokens": padded}, "serving_default").values()))
    np.testing.assert_allclose(found, task.model.predict(ids[None], verbose=0), atol=1e-4)


def test_predict_reads_a_review_file_and_prints_the_most_attended_sentences(run_folder, tmp_path, capsys):
    review = tmp_path / "review.txt"
    review.write_text(REVIEW, encoding="utf-8")
    capsys.readouterr()
    cli.main(["predict", run_folder, str(review), "A short one. Two sentences."])
    lines = capsys.readouterr().out.splitlines()
    label, probability = rnnzoo.load(run_folder).predict([REVIEW])[0]
    assert lines[0] == f"{label} (p={probability:.3f})\t{review}"
    assert len(lines) == 1 + 3 + 1 + 2
    assert all(line.startswith("  0.") or line.startswith("  1.") for line in lines[1:4])
    assert {line.split("  ", 2)[2] for line in lines[1:4]} <= set(REVIEW.split("\n"))


def test_cross_validation_summary_never_overwrites_a_users_file(tmp_path, capsys):
    from rnnzoo.cli.arguments import parse_config
    from rnnzoo.configs import DocumentConfig

    config = parse_config(DocumentConfig, ["--output", str(tmp_path), "--run", "cv", "--data", "movie_reviews"],
                          prog="test")
    folds = [{"accuracy": a, "macro_f1": a} for a in (0.8, 0.9, 0.85)]
    summary = documents.write_cross_validation(config, folds)
    assert summary["mean_accuracy"] == pytest.approx(0.85) and summary["std_accuracy"] == pytest.approx(0.05)
    path = tmp_path / "document_classification" / "cv-3fold.json"
    assert json.loads(path.read_text())["accuracy"] == [0.8, 0.9, 0.85]
    assert "3-fold cross-validation: accuracy 0.8500 +- 0.0500" in capsys.readouterr().out
    documents.write_cross_validation(config, folds)  # its own file: written again
    path.write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="rnnzoo did not write it"):
        documents.write_cross_validation(config, folds)
    assert path.read_text() == "mine"
