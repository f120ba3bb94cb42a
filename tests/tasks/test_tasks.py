"""The task objects: raw strings in, label names out, saved as a folder that
`rnnzoo predict` and `rnnzoo evaluate` read like a recipe run."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from rnnzoo import cli
from rnnzoo.tasks.evaluation import report_name
from rnnzoo.data import load_builtin
from rnnzoo.tasks import TextClassifier


@pytest.fixture(scope="module")
def classifier():
    train = load_builtin("sentiment", "train")[:300]
    texts, labels = [e.text for e in train], [e.label for e in train]
    model = TextClassifier.from_examples(texts, labels, names={"0": "negative", "1": "positive"}, units=4,
                                         embedding_dim=4, num_layers=1)
    history = model.fit(texts, labels, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    return model


def test_text_classifier_answers_raw_text_with_label_names(classifier):
    texts = ["The film wasn't good.", "the film was n't good .", "", "zzz qqq"]
    answers = classifier.predict(texts)
    assert [name for name, _ in answers] == [classifier.names[i]
                                             for i in classifier.predict_probabilities(texts).argmax(-1)]
    assert all(name in ("negative", "positive") and 0.5 <= p <= 1 for name, p in answers)
    np.testing.assert_allclose(*classifier.predict_probabilities(texts[:2]), atol=1e-6)  # raw == tokenized
    report = classifier.evaluate(["a fine film", "dull"], ["1", "negative"])  # labels by code or by name
    assert set(report["per_class"]) == {"negative", "positive"} and 0 <= report["accuracy"] <= 1
    tokens = sum(classifier.encoder.encode_to_lists(["a fine film", "dull"]), [])
    assert report["unknown_token_rate"] == pytest.approx(tokens.count(1) / len(tokens)) and 1 in tokens
    with pytest.raises(ValueError, match=r"labels \['maybe'\] \(the first in example 1\) are not among"):
        classifier.evaluate(["a fine film"], ["maybe"])


def test_text_classifier_folder_loads_serves_and_is_scored_like_a_run(classifier, tmp_path, capsys):
    folder = classifier.save_to_preset(str(tmp_path / "classifier"))
    texts = ["The plot was clever (really)!", "boring, dull... awful", ""]
    expected = classifier.predict_probabilities(texts)
    np.testing.assert_allclose(TextClassifier.from_preset(folder).predict_probabilities(texts), expected, atol=1e-6)
    check = classifier.export(os.path.join(folder, "saved_model"), texts)
    assert check["examples"] == 3 and check["max_abs_diff"] < 1e-5 and check["label_agreement"] == 1.0
    serve = tf.saved_model.load(os.path.join(folder, "saved_model")).signatures["serving_default"]
    served = serve(text=tf.constant(texts))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert [s.decode() for s in served["label"].numpy()] == [name for name, _ in classifier.predict(texts)]

    cli.main(["predict", folder, texts[0]])
    assert capsys.readouterr().out.startswith(classifier.predict(texts[:1])[0][0] + " (p=")
    (tmp_path / "reviews.tsv").write_text("a clever film\t1\nawful\t0\n", encoding="utf-8")
    cli.main(["evaluate", folder, "--data", str(tmp_path / "reviews.tsv")])
    report = json.load(open(os.path.join(folder, "evaluations", report_name(tmp_path / "reviews.tsv", "test"), "metrics.json")))
    expected_accuracy = classifier.evaluate(["a clever film", "awful"], ["1", "0"])["accuracy"]
    assert report["num_examples"] == 2 and report["metrics"]["accuracy"] == pytest.approx(expected_accuracy)


def test_captioning_saved_models_fit_images_of_any_size_and_colour_mode():
    from rnnzoo.tasks.captioning import fit_images

    rng = np.random.default_rng(0)
    gray = rng.random((2, 4, 6, 1)).astype("float32")
    np.testing.assert_array_equal(fit_images(gray, (4, 6, 1)), gray)  # already fits: unchanged
    rgb = np.repeat(gray, 3, axis=-1)
    np.testing.assert_array_equal(fit_images(gray, (4, 6, 3)), rgb)  # gray -> RGB
    rgba = np.concatenate([rgb, np.ones_like(gray)], axis=-1)
    np.testing.assert_array_equal(fit_images(rgba, (4, 6, 3)), rgb)  # alpha dropped
    np.testing.assert_allclose(fit_images(rgb, (4, 6, 1)), gray, atol=1e-3)  # RGB -> luminance
    twice = np.repeat(np.repeat(rgb, 2, axis=1), 2, axis=2)  # (8, 12): each pixel doubled
    np.testing.assert_allclose(fit_images(twice, (4, 6, 3)), rgb, atol=1e-6)  # resized back exactly
    assert fit_images(rng.random((1, 5, 7, 3)).astype("float32"), (4, 6, 3)).shape == (1, 4, 6, 3)


@pytest.mark.parametrize("cell", ["lstm", "mlstm"])  # mLSTM's matrix memory is wider than `units`
def test_language_model_sampler_starts_every_state_at_its_own_width(cell):
    import rnnzoo
    from rnnzoo.tasks import language_model

    model = rnnzoo.build_model("many_to_many", vocab_size=12, num_classes=12, cell=cell, units=8, num_layers=2,
                               bidirectional=False, embedding_dim=4)
    run = language_model.sampler(model, length=5, temperature=1.0, top_k=0, seed=0, level="character")
    drawn = np.asarray(run(np.array([[4, 5, 6]], "int32")))
    assert drawn.shape == (1, 5) and (drawn >= 4).all()  # never padding, start or end
