"""The shared task test (as keras-hub's `run_task_test`): every task class
builds from raw examples, fits, predicts raw input, evaluates with its
field's metric (agreeing with its own predictions), saves as a preset that
`from_preset` and `rnnzoo.load` read back with identical predictions, and
exports a SavedModel serving raw input with parity (TensorFlow; on JAX and
torch `export` says in one line that it needs TensorFlow, and on torch the
network exports to ONNX with ONNX Runtime parity). Tiny models on
the built-in data: this checks the contract, not quality."""

import math

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.data import load_builtin
from rnnzoo.metrics import sacrebleu_score, wer
from rnnzoo.utils.examples import count_examples
from rnnzoo.tasks import (Captioner, DocumentClassifier, Forecaster, GlobalForecaster, LanguageModel, SequenceTagger,
                          SpeechRecognizer, TextClassifier, Translator)

TINY = dict(units=4, num_layers=1)


def classifier_case():
    train = load_builtin("sentiment", "train")[:48]
    x, y = [e.text for e in train], [e.label for e in train]

    def consistent(task, metrics):
        assert metrics["accuracy"] == pytest.approx(np.mean([name == label for (name, _), label in
                                                             zip(task.predict(x), y)]))

    return TextClassifier.from_examples(x, y, embedding_dim=4, **TINY), x, y, ["A fine film.", ""], consistent


def document_classifier_case(model):
    train = load_builtin("documents", "train")[:32]
    x, y = [e.text for e in train], [e.label for e in train]

    def consistent(task, metrics):
        assert metrics["accuracy"] == pytest.approx(np.mean([name == label for (name, _), label in
                                                             zip(task.predict(x), y)]))
        assert task.get_config() == {"max_sentences": 6, "max_words": 9}

    raw = ["The film was great. The plot was dull!", "", x[0] + "\n" + x[1]]  # a document longer than the cut
    task = DocumentClassifier.from_examples(x, y, model=model, embedding_dim=4, max_sentences=6, max_words=9,
                                            **({"pooling": "max"} if model == "flat" else {}), **TINY)
    return task, x, y, raw, consistent


def tagger_case(kind):
    train = load_builtin(kind, "train")[:24]
    x, y = [s.words for s in train], [s.tags for s in train]

    def consistent(task, metrics):
        found = [tag for row in task.predict(x) for _, tag in row]
        accuracy = np.mean(np.array(found) == np.array([t for row in y for t in row]))
        assert metrics["accuracy" if kind == "pos" else "token_accuracy"] == pytest.approx(accuracy)
        assert task.task == kind and ("f1" in metrics) == (kind == "ner")

    task = SequenceTagger.from_examples(x, y, embedding_dim=4, char_embedding_dim=4, char_units=4, **TINY)
    return task, x, y, ["The cat isn't here.", "", ["New", "York", "!"]], consistent


def string_embedding_tagger_case():
    """A tagger that also reads tiny forward and backward character language models (frozen)."""
    task, x, y, raw, consistent = tagger_case("pos")
    text = "\n".join(" ".join(words) for words in x)
    models = [LanguageModel.from_examples([text], embedding_dim=4, backward=backward, **TINY)
              for backward in (False, True)]
    task = SequenceTagger.from_examples(x, y, embedding_dim=4, characters=False, string_embeddings=models, **TINY)
    assert task.model.get_layer("string_embeddings").trainable_weights == []
    return task, x, y, raw + ["Ünïcode wörds ünseen"], consistent


def translator_case():
    train = load_builtin("translation", "train")[:48]
    x, y = [p.source for p in train], [p.target for p in train]

    def consistent(task, metrics):
        assert metrics["bleu"] == pytest.approx(sacrebleu_score(task.predict(x), y))
        assert metrics["perplexity"] > 1

    return Translator.from_examples(x, y, embedding_dim=4, beam_size=2, **TINY), x, y, x[:2] + [""], consistent


def language_model_case():
    text = load_builtin("characters", "train")[:2000]

    def consistent(task, metrics):
        assert metrics["perplexity"] == pytest.approx(math.exp(metrics["loss"]))
        assert metrics["tokens"] == len(task.encoder.encode_to_lists([text])[0]) - 1

    task = LanguageModel.from_examples([text], embedding_dim=4, sequence_length=32, length=12, **TINY)
    return task, [text], None, ["the ", "ROMEO:"], consistent


def captioner_case():
    train = load_builtin("digit_strips", "train")[:24]
    x, y = np.stack([e.image for e in train]), [e.captions for e in train]

    def consistent(task, metrics):
        assert metrics["wer"] == pytest.approx(wer([row[0].lower() for row in y], task.predict(x)))

    task = Captioner.from_examples(x, y, embedding_dim=4, cnn_filters=[4], beam_size=2, **TINY)
    return task, x, y, list(x[:3]), consistent


def speech_case():
    from rnnzoo.tasks.speech import digit_strings, words

    strings = digit_strings(load_builtin("spoken_digits", "train"), 24, np.random.default_rng(0), 1, 2)[:12]
    x, y = [w for w, _ in strings], [words(labels) for _, labels in strings]

    def consistent(task, metrics):
        assert metrics["wer"] == pytest.approx(wer(y, task.predict(x)))

    task = SpeechRecognizer.from_examples(x, y, mel_bins=8, conv_filters=(4,), **TINY)
    return task, x, y, x[:3], consistent


def forecaster_case():
    from rnnzoo.data.builtin.series import multi_seasonal_series
    from rnnzoo.tasks.forecasting import windows

    series = multi_seasonal_series(seed=0)
    train = series.values[:1200]
    history, future = windows(train, 0, len(train), 24, 6)  # what evaluate(train) scores: every window

    def consistent(task, metrics):
        found = task.standardizer(task.predict(history)) - task.standardizer(future)
        assert metrics["mse"] == pytest.approx(float(np.mean(found ** 2)), rel=1e-5)
        assert set(metrics["baselines"]) == {"naive", "seasonal_naive"}

    task = Forecaster.from_examples(series, lookback=24, horizon=6, segment_length=6, units=4)
    return task, train, None, history[:4], consistent


def calendar_forecaster_case():
    import dataclasses

    from rnnzoo.data.builtin.series import multi_seasonal_series
    from rnnzoo.tasks.forecasting import window_times, windows

    series = multi_seasonal_series(seed=0)
    train = dataclasses.replace(series, timestamps=series.timestamps[:600], values=series.values[:600])
    history, future = windows(train.values, 0, 600, 24, 6)
    served = {"window": history, "time": window_times(train.timestamps, 0, 600, 24, 6)}  # as the SavedModel takes

    def consistent(task, metrics):
        found = task.standardizer(task.predict(served)) - task.standardizer(future)
        assert metrics["mse"] == pytest.approx(float(np.mean(found ** 2)), rel=1e-5)
        assert task.calendar and served["time"][0, 0] == 438_311  # 2020-01-01 23:00, the first window's last hour
        with pytest.raises(ValueError, match="reads the calendar"):
            task.predict(history)

    task = Forecaster.from_examples(series, lookback=24, horizon=6, segment_length=6, units=4, calendar=True)
    return task, train, None, {k: v[:4] for k, v in served.items()}, consistent


def global_forecaster_case():
    from rnnzoo.data.builtin.series import seasonal_panel
    from rnnzoo.metrics.forecasting import smape
    from rnnzoo.preprocessing.series import series_windows

    train, _ = seasonal_panel(count=3, horizon=6)
    history, future, _, _ = series_windows(train.values, 24, 6)
    x, y = history[::40], future[::40]  # windows scored as M4 scores series: each window is a series' history

    def consistent(task, metrics):
        assert metrics["smape"] == pytest.approx(np.mean([smape(a, f) for a, f in zip(y, task.predict(x))]))
        assert metrics["baselines"]["naive2"]["owa"] == 1.0 and 0 <= metrics["coverage"] <= 1

    task = GlobalForecaster.from_examples(lookback=24, horizon=6, period=6, segment_length=6, units=4)
    task.calibrate(x, y, alpha=0.2)  # intervals, so that the preset and the export carry them
    return task, x, y, x[:4], consistent


CASES = {"text_classifier": classifier_case, "document_classifier": lambda: document_classifier_case("hierarchical"),
         "flat_document_classifier": lambda: document_classifier_case("flat"), "pos_tagger": lambda: tagger_case("pos"),
         "ner_tagger": lambda: tagger_case("ner"), "string_embedding_tagger": string_embedding_tagger_case,
         "translator": translator_case,
         "language_model": language_model_case, "captioner": captioner_case, "speech_recognizer": speech_case,
         "forecaster": forecaster_case, "calendar_forecaster": calendar_forecaster_case,
         "global_forecaster": global_forecaster_case}


def assert_same(found, expected):
    """Predictions of a task and of its reloaded copy: equal, floats to 1e-6."""
    if isinstance(expected, np.ndarray):
        np.testing.assert_allclose(found, expected, rtol=1e-6, atol=1e-6 * float(np.max(np.abs(expected))))
    elif isinstance(expected, (list, tuple)):
        assert len(found) == len(expected)
        for a, b in zip(found, expected):
            assert_same(a, b)
    elif isinstance(expected, float):
        assert found == pytest.approx(expected, rel=1e-6, abs=1e-6)
    else:
        assert found == expected


@pytest.mark.parametrize("case", CASES)
def test_task_contract(case, tmp_path):
    """Every task fits, predicts, evaluates, saves, loads and exports raw input."""
    task, x, y, raw, consistent = CASES[case]()
    before = [w.copy() for w in task.model.get_weights()]
    history = task.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert any(not np.allclose(a, b) for a, b in zip(before, task.model.get_weights()))

    predictions = task.predict(raw)
    assert len(predictions) == count_examples(raw)
    consistent(task, task.evaluate(x, y) if y is not None else task.evaluate(x))

    preset = task.save_to_preset(str(tmp_path / "preset"))
    loaded = type(task).from_preset(preset)
    assert type(loaded) is type(task) and loaded.get_config() == task.get_config()
    assert_same(loaded.predict(raw), predictions)
    again = rnnzoo.load(preset)  # the same preset through the generic loader: the same task and weights
    assert type(again) is type(task) and again.get_config() == task.get_config()
    for found, expected in zip(again.model.get_weights(), task.model.get_weights(), strict=True):
        np.testing.assert_array_equal(found, expected)
    other = Forecaster if isinstance(task, TextClassifier) else TextClassifier  # a DocumentClassifier is one
    with pytest.raises(ValueError, match=f"holds a {type(task).__name__}, not a {other.__name__}"):
        other.from_preset(preset)

    if keras.backend.backend() == "torch":  # the network as ONNX, checked by ONNX Runtime on padded inputs
        report = task.export(str(tmp_path / "onnx"), format="onnx")
        assert report["parity"]["max_abs_diff"] <= report["parity"]["tolerance"] * report["parity"]["scale"]
        assert {"LSTM", "GRU"} & set(report["ops"]) and "Loop" not in report["ops"], report["ops"]
    if keras.backend.backend() != "tensorflow":
        with pytest.raises(ValueError, match="needs the TensorFlow backend"):
            task.export(str(tmp_path / "saved_model"), raw)
        return
    check = task.export(str(tmp_path / "saved_model"), raw)
    assert check["examples"] >= 1
    for key in ("agreement", "sentence_agreement", "label_agreement"):
        assert check.get(key, 1.0) == 1.0
    scale = 1.0 if "max_relative_diff" not in check else None  # probabilities: scale 1; forecasts: per column
    assert (check.get("max_abs_diff", 0.0) < 1e-4) if scale else check["max_relative_diff"] < 1e-4


def test_a_preset_never_lands_on_a_users_files_or_another_tasks_preset(tmp_path):
    task, *_ = classifier_case()
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="holds files rnnzoo did not write"):
        task.save_to_preset(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    preset = task.save_to_preset(str(tmp_path / "preset"))
    forecaster, *_ = forecaster_case()
    with pytest.raises(ValueError, match="holds a preset of another task"):
        forecaster.save_to_preset(preset)
    assert isinstance(rnnzoo.load(preset), TextClassifier)
    with pytest.raises(ValueError, match="local folders"):
        rnnzoo.load("kaggle://someone/rnnzoo/keras/tagger")
    with pytest.raises(FileNotFoundError, match="no such preset or run folder"):
        rnnzoo.load(str(tmp_path / "missing"))
