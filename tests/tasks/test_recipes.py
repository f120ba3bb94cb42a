"""Smoke runs of the recipes on built-in data: saved files, the text-in
SavedModel against the Keras model, resuming after a SIGKILL, and the
bidirectional tagger against the unidirectional one."""

import json
import os
import random
import signal
import stat
import subprocess
import sys

import keras
import numpy as np
import pytest

from recipes import document_classification, sentiment, tagging
from rnnzoo import cli
from rnnzoo.data.builtin import load_builtin
from rnnzoo.data.examples import TaggedSentence
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.metrics import sacrebleu_score
from rnnzoo.tasks import captioning as captioning_task
from rnnzoo.tasks import speech as speech_task
from rnnzoo.tasks import translation as translation_task
from rnnzoo.tasks.evaluation import evaluate_run_folder, report_name
from rnnzoo.tasks.recipe import SMOKE_EXPORT_CHECKED
from rnnzoo.tasks import tagging as tagging_task
from rnnzoo.training.loop import KILL_AT_STEP
from rnnzoo.utils.files import KILL_IN_SAVE, is_temporary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run_folder(output, recipe):
    (name,) = os.listdir(os.path.join(output, recipe))
    return os.path.join(output, recipe, name)


def _signature(folder):
    import tensorflow as tf

    return tf.saved_model.load(os.path.join(folder, "saved_model")).signatures["serving_default"]


def _check_loads_as_task(folder, class_name, raw, expected, legacy=False):
    """A run folder is a preset: `rnnzoo.load` returns its task, whose
    predictions on raw input are the SavedModel's (`expected`). `legacy`:
    first remove the preset files, as in a run folder made before them."""
    import rnnzoo

    if legacy:
        for name in ("metadata.json", "task.json"):
            os.remove(os.path.join(folder, name))
    task = rnnzoo.load(folder)
    assert type(task).__name__ == class_name
    found = task.predict(raw)
    if isinstance(expected, np.ndarray):
        np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-4 * float(np.abs(expected).max()))
    else:
        assert found == expected
    return task


def test_sentiment_smoke_run_saves_a_model_that_serves_text(tmp_path, capsys):
    glove = tmp_path / "vectors.txt"
    glove.write_text("the 0.1 0.2 0.3 0.4\ngood 1 1 1 1\nbad -1 -1 -1 -1\n", encoding="utf-8")
    cli.main(["run", "sentiment", "--smoke", "--epochs", "1", "--units", "8", "--verbose", "0",
              "--embeddings", str(glove), "--output", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "pretrained vectors: 3 of" in out and "test (64 examples): accuracy" in out
    folder = _run_folder(tmp_path / "out", "sentiment")
    for name in ("model.keras", "checkpoints/latest.weights.h5", "history.csv", "labels.txt", "tokens/vocabulary.txt",
                 "tokens/tokenizer.json", "metrics.json", "config.json", "state.json",
                 "saved_model/saved_model.pb"):
        assert os.path.exists(os.path.join(folder, name)), name
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert report["num_examples"] == 64 and 0 <= report["metrics"]["accuracy"] <= 1
    umask = os.umask(0)
    os.umask(umask)  # files written get the user's umask, as any program's would
    for name, mode in (("model.keras", 0o666), ("metrics.json", 0o666), ("README.md", 0o666), ("tflite", 0o777),
                       ("tflite/model.tflite", 0o666), ("saved_model", 0o777)):
        assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == mode & ~umask, name
    assert len(report["metrics"]["confusion_matrix"]) == 2
    assert report["extra"]["serving_check"]["max_abs_diff"] < 1e-4

    model = keras.saving.load_model(os.path.join(folder, "model.keras"))
    assert model.get_layer("embedding").embeddings.shape[1] == 4  # from the vectors file
    encoder = TextEncoder.load(os.path.join(folder, "tokens"))
    texts = ["the film was good", "the plot was not very clever but the cast was great", "", "zzz unknown"]
    served = _signature(folder)(text=np.array(texts, dtype=object))
    ids = [row or [1] for row in encoder.encode_to_lists(texts)]
    width = max(map(len, ids))
    logits = model.predict(np.array([r + [0] * (width - len(r)) for r in ids]), verbose=0)
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    # The built-in data writes 0 / 1; the run serves them by name.
    assert open(os.path.join(folder, "labels.txt")).read().split() == ["0", "1"]
    names = open(os.path.join(folder, "label_names.txt")).read().split()
    assert names == ["negative", "positive"]
    assert [s.decode() for s in served["label"].numpy()] == [names[i] for i in expected.argmax(-1)]
    task = _check_loads_as_task(folder, "TextClassifier", texts, [(names[i], pytest.approx(float(p[i]), abs=1e-5))
                                                                  for p, i in zip(expected, expected.argmax(-1))],
                                legacy=True)
    assert task.names == names

    # `rnnzoo predict` serves the same labels from the run folder.
    cli.main(["predict", folder, *texts[:2]])
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == [names[i] for i in expected.argmax(-1)[:2]]
    _check_tflite_exports(folder, "accuracy", model, ids[:1])
    _check_evaluate_sentiment(tmp_path, folder, model, encoder, capsys)

    # `rnnzoo info`: the kernel each recurrent layer ran (TensorFlow on a CPU: Keras' loop, and why) and the
    # TFLite file's (TFLite's fused LSTM), as in the report and the model card.
    assert {row["kernel"] for row in report["extra"]["kernels"]} == {"keras_loop"} and report["extra"]["backend"] == \
        "tensorflow"
    assert {row["why_not_fused"] for row in report["extra"]["kernels"]} == {"no GPU (cuDNN runs on GPUs only)"}
    cli.main(["info", folder])
    info = capsys.readouterr().out
    assert "encoder_rnn_0/forward_encoder_rnn_0_layer (LSTMCell): keras_loop (not fused: no GPU" in info
    assert "tflite/model.tflite: tflite_fused_lstm" in info and "checked by LiteRT" in info
    card = open(os.path.join(folder, "README.md"), encoding="utf-8").read()
    assert "## Recurrent kernels" in card and "`tflite/`: `tflite_fused_lstm`" in card
    with pytest.raises(SystemExit) as exit:
        cli.main(["info", str(tmp_path)])
    assert exit.value.code == 2 and "not a recipe run folder" in capsys.readouterr().err


def _files(folder):
    """Every file under `folder` with its bytes."""
    found = {}
    for base, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(base, name)
            found[os.path.relpath(path, folder)] = open(path, "rb").read()
    return found


def _check_evaluate_sentiment(tmp_path, folder, model, encoder, capsys):
    """`rnnzoo evaluate` scores the run on a new file of raw text (labels by
    code or by name) with its SavedModel, and writes only its report."""
    reviews = ["The film wasn't good.", "The plot was clever (really)!", "Boring, dull... awful", "great"]
    labels = ["0", "positive", "negative", "1"]
    data = tmp_path / "reviews.tsv"
    data.write_text("".join(f"{t}\t{label}\n" for t, label in zip(reviews, labels)), encoding="utf-8")
    before = _files(folder)
    capsys.readouterr()
    cli.main(["evaluate", folder, "--data", str(data)])
    printed = capsys.readouterr().out
    report_path = os.path.join(folder, "evaluations", report_name(data, "test"), "metrics.json")
    assert f"report: {report_path}" in printed
    after = _files(folder)
    assert {k: v for k, v in after.items() if not k.startswith("evaluations")} == before
    report = json.load(open(report_path))
    assert report["num_examples"] == 4 and report["dataset"] == str(data)
    ids = [row or [1] for row in encoder.encode_to_lists(reviews)]
    width = max(map(len, ids))
    predicted = model.predict(np.array([r + [0] * (width - len(r)) for r in ids]), verbose=0).argmax(-1)
    assert report["metrics"]["accuracy"] == pytest.approx(np.mean(predicted == np.array([0, 1, 0, 1])))
    tokens = sum(ids, [])
    assert report["metrics"]["unknown_token_rate"] == pytest.approx(tokens.count(1) / len(tokens))
    assert report["metrics"]["per_class"].keys() == {"negative", "positive"}
    # Bad input: one line naming what is wrong, exit status 2 (SystemExit with a message).
    data.write_text("a fine film\tmaybe\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"rnnzoo evaluate: error: --data .*reviews.tsv: labels \['maybe'\] \(the first in example 1\) are not among"):
        cli.main(["evaluate", folder, "--data", str(data)])
    with pytest.raises(SystemExit, match="no such file or folder"):
        cli.main(["evaluate", folder, "--data", str(tmp_path / "missing.tsv")])
    with pytest.raises(SystemExit, match="not a run folder of tagging, sentiment, translation"):
        cli.main(["evaluate", str(tmp_path), "--data", str(data)])


def _check_tflite_exports(folder, metric, model, ids):
    """The run ends with float and dynamic-range TFLite files, scored on
    validation data, and a model card that lists them."""
    from rnnzoo.exporting import load_tflite, run

    report = json.load(open(os.path.join(folder, "metrics.json")))["extra"]["tflite"]
    assert report["examples"] == SMOKE_EXPORT_CHECKED  # validation examples scored (--smoke)
    for name in ("tflite", "tflite_dynamic"):
        entry = report[name]
        assert entry["non_builtin_ops"] == [] and entry["size_bytes"] > 0
        assert entry["metric_delta"] == pytest.approx(entry["metric"] - entry["keras_metric"])
    assert report["tflite"]["parity_max_abs_diff"] < 1e-4
    assert report["tflite_dynamic"]["size_bytes"] <= report["tflite"]["size_bytes"]  # tiny weights stay float
    # Timed while scoring: the fastest and the smallest named among the variants as accurate as Keras.
    accurate = [report[name] for name in ("tflite", "tflite_dynamic") if abs(report[name]["metric_delta"]) <= 0.005]
    assert all(report[name]["ms_per_example"] > 0 for name in ("tflite", "tflite_dynamic"))
    if accurate:
        assert all(report[report["fastest"]]["ms_per_example"] <= e["ms_per_example"] for e in accurate)
        assert all(report[report["smallest"]]["size_bytes"] <= e["size_bytes"] for e in accurate)
    card = open(os.path.join(folder, "README.md"), encoding="utf-8").read()
    assert "tflite_dynamic/model.tflite" in card and f"validation {metric}" in card
    assert "Time per example on the machine that exported them" in card
    # LSTMs run as TFLite's fused kernel; the card lists the ops and says to reset its states.
    has_lstm = any(isinstance(layer, keras.layers.LSTM) for layer in model._flatten_layers())
    assert ("UNIDIRECTIONAL_SEQUENCE_LSTM" in report["tflite"]["ops"]) == has_lstm
    assert "TFLite ops of `tflite/model.tflite`" in card and ("reset_all_variables()" in card) == has_lstm
    inputs = {"tokens": np.array(ids, "int32")}
    found = next(iter(run(load_tflite(os.path.join(folder, "tflite")), inputs, "serving_default").values()))
    np.testing.assert_allclose(found, model.predict(inputs["tokens"], verbose=0), atol=1e-4)


def test_ner_smoke_run_with_crf_serves_valid_tags(tmp_path, capsys):
    metrics = tagging.main(["--task", "ner", "--smoke", "--epochs", "1", "--units", "8", "--verbose", "0",
                            "--output", str(tmp_path)])
    assert {"f1", "precision", "recall", "token_accuracy", "per_type"} <= set(metrics)
    folder = _run_folder(tmp_path, "tagging")
    for name in ("model.keras", "words.txt", "characters.txt", "tags.txt", "word_encoder.json",
                 "metrics.json", "saved_model/saved_model.pb"):
        assert os.path.exists(os.path.join(folder, name)), name
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert report["extra"]["serving_check"]["sentence_agreement"] == 1.0
    assert report["extra"]["serving_check"]["max_abs_diff"] < 1e-4
    assert report["extra"]["output_layer"] == "crf"

    model = keras.saving.load_model(os.path.join(folder, "model.keras"))
    encoder = tagging_task.WordEncoder.load(folder)
    tags = Vocabulary.load(os.path.join(folder, "tags.txt"), reserved=("<pad>",))
    sentences = ["paris hilton saw the washington post .", "Lima", "", "the stone wall fell slowly today ."]
    served = _signature(folder)(text=np.array(sentences, dtype=object))
    lengths = served["lengths"].numpy().tolist()
    assert lengths == [len(s.split()) for s in sentences]
    examples = [TaggedSentence(s.split(), ["O"] * len(s.split())) for s in sentences if s]
    batches = tagging_task.recipe.ordered_batches(tagging_task.tagged_dataset(encoder, tags, examples)[0],
                                             type("Args", (), {"batch_size": 8})())
    expected, _ = tagging_task.predict(model, batches)
    served_tags = [[t.decode() for t in row[:n]] for row, n in zip(served["tags"].numpy(), lengths) if n]
    assert served_tags == [tags.to_tokens(row) for row in expected]
    assert served["tags"].numpy()[2].tolist() == [b""] * served["tags"].shape[1]
    found = _check_loads_as_task(folder, "SequenceTagger", [s for s in sentences if s],
                                 [list(zip(s.split(), row)) for s, row in zip([s for s in sentences if s], served_tags)])
    assert found.task == "ner" and json.load(open(os.path.join(folder, "task.json")))["config"] == {"task": "ner"}
    for row in served_tags:  # BIO-constrained decoding
        for previous, current in zip(["O"] + row, row):
            assert not current.startswith("I-") or previous[2:] == current[2:], row
    probabilities = served["probabilities"].numpy()
    np.testing.assert_allclose(probabilities[0, :lengths[0]].sum(-1), 1.0, atol=1e-5)

    capsys.readouterr()
    cli.main(["predict", folder, sentences[0], "paris hilton saw the washington post."])
    tokenized, raw = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert tokenized == [f"{w}/{t}" for w, t in zip(sentences[0].split(), served_tags[0])]
    assert raw == tokenized  # raw text: the final period is split off and tagged as in the tokenized sentence
    cli.main(["predict", folder, "", "   "])  # sentences with no words get no tags (issue 33, defect 5)
    assert capsys.readouterr().out == "\n\n"
    cli.main(["predict", folder, "", "Lima"])
    assert capsys.readouterr().out.split("\n") == ["", f"Lima/{served_tags[1][0]}", ""]
    report = json.load(open(os.path.join(folder, "metrics.json")))["extra"]["tflite"]
    longest = report["tflite"]["inputs"]["tokens"][1]  # characters fix the length
    assert report["tflite"]["inputs"]["characters"] == [1, longest, 20]
    assert report["tflite"]["parity_max_abs_diff"] < 1e-4 and report["tflite_dynamic"]["non_builtin_ops"] == []
    assert "CRF's emissions" in open(os.path.join(folder, "README.md"), encoding="utf-8").read()

    # `rnnzoo export`: a streaming-incapable (bidirectional) model is refused clearly; TFLite int8 works.
    with pytest.raises(SystemExit, match="bidirectional"):
        cli.main(["export", folder, "--format", "saved_model", "--streaming"])
    with pytest.raises(SystemExit, match="needs a fixed --sequence-length"):
        cli.main(["export", folder])
    cli.main(["export", folder, "--export-quantize", "dynamic", "--sequence-length", "12"])
    assert "inputs: {'characters': [1, 12, 20], 'tokens': [1, 12]}" in capsys.readouterr().out
    assert os.path.exists(os.path.join(folder, "export", "tflite_dynamic", "model.tflite"))

    # `rnnzoo evaluate` on a BIO file scores span F1 with the run's SavedModel.
    bio = tmp_path / "new.bio"
    gold = [("paris hilton saw the washington post .".split(), ["B-PER", "I-PER", "O", "O", "B-ORG", "I-ORG", "O"]),
            (["Lima"], ["B-LOC"])]
    bio.write_text("\n\n".join("\n".join(f"{w}\t{t}" for w, t in zip(*s)) for s in gold) + "\n", encoding="utf-8")
    cli.main(["evaluate", folder, "--data", str(bio)])
    report = json.load(open(os.path.join(folder, "evaluations", report_name(bio, "test"), "metrics.json")))
    predicted = [served_tags[0], served_tags[1]]
    expected_scores = tagging_task.score("ner", [tags for _, tags in gold], predicted)[0]
    assert report["metrics"]["f1"] == pytest.approx(expected_scores["f1"])
    assert report["metrics"]["token_accuracy"] == pytest.approx(expected_scores["token_accuracy"])


def test_ner_export_scores_validation_sentences_longer_than_the_export_length(tmp_path):
    """TFLite with characters has a fixed length (the longest training
    sentence); a longer validation sentence is cut, and its cut words count
    as "O", not as the padding tag, which is no BIO tag (this crashed)."""
    data = tmp_path / "data"
    data.mkdir()
    sentence = "Paris\tB-location\nis\tO\nnice\tO\n\n"
    (data / "train.bio").write_text(sentence * 20, encoding="utf-8")
    long = "".join(f"{w}\t{t}\n" for w, t in [("We", "O"), ("saw", "O"), ("John", "B-person"), ("Smith", "I-person"),
                                                ("in", "O"), ("Lima", "B-location")]) + "\n"
    (data / "dev.bio").write_text(long + sentence, encoding="utf-8")
    (data / "test.bio").write_text(sentence + long, encoding="utf-8")
    tagging.main(["--task", "ner", "--data", str(data), "--smoke", "--epochs", "1", "--units", "8",
                  "--verbose", "0", "--export-quantize", "--output", str(tmp_path / "out")])
    report = json.load(open(os.path.join(_run_folder(tmp_path / "out", "tagging"), "metrics.json")))
    tflite = report["extra"]["tflite"]["tflite"]
    assert tflite["inputs"]["tokens"] == [1, 3] and 0.0 <= tflite["metric"] <= 1.0


def _metrics(folder):
    with open(os.path.join(folder, "metrics.json")) as f:
        report = json.load(f)
    with open(os.path.join(folder, "state.json")) as f:
        return report["metrics"], json.load(f)["history"]


def _kill_points(state):
    """Where a run resumed from `state` (its `state.json`, or None) can be
    SIGKILLed for sure: after a training step of an epoch still to train, or
    while saving a file it writes (between writing the temporary file and
    renaming it into place): each epoch's backup, its metadata and the run
    state, the first epoch's best model, and at the end the report, the
    SavedModel, the TFLite folder, the model card and the curves."""
    done = state["epoch"] if state else 0
    finished = bool(state and state["finished"])
    points = [("save", name) for name in ("metrics.json", "saved_model", "tflite", "README.md", "training_curves.png")]
    if not finished:
        points.append(("save", "state.json"))
    if not finished and done < 2:
        points += [("step", f"{epoch}:{step}") for epoch in range(done + 1, 3) for step in (1, 2)]
        points += [("save", "latest.weights.h5"), ("save", "training_metadata.json")]
        points += [("save", "model.keras")] if done == 0 else []
    return points


def _layout(folder):
    return sorted(os.path.relpath(os.path.join(base, name), folder) for base, _, names in os.walk(folder)
                  for name in names if name != ".lock")


def test_a_recipe_trained_on_torch_or_jax_leaves_the_run_folder_of_a_tensorflow_run(tmp_path, monkeypatch):
    """`--backend torch` / `jax` (the command again, in a process on that
    backend) trains there, then TensorFlow evaluates and exports the run in a
    process of its own: the same files as a TensorFlow run, SavedModel and
    TFLite included, and a report naming the kernels that trained it."""
    pytest.importorskip("torch", reason="PyTorch is the [torch] extra: pip install -e '.[torch]'")
    monkeypatch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", "--xla_backend_optimization_level=0"))  # CI time
    options = ["--smoke", "--epochs", "1", "--units", "8", "--verbose", "0", "--export-quantize"]
    cli.main(["run", "sentiment", *options, "--output", str(tmp_path / "tensorflow")])
    folder = _run_folder(tmp_path / "tensorflow", "sentiment")
    expected = _layout(folder)
    assert {"saved_model/saved_model.pb", "tflite/model.tflite", "model.keras", "README.md"} <= set(expected)
    extra = json.load(open(os.path.join(folder, "metrics.json")))["extra"]
    assert extra["backend"] == "tensorflow" and "evaluation_backend" not in extra
    assert {row["kernel"] for row in extra["kernels"]} == {"keras_loop"}
    for backend, kernel in (("torch", "pytorch_fused"), ("jax", "keras_loop")):
        cli.main(["run", "sentiment", *options, "--backend", backend, "--output", str(tmp_path / backend)])
        folder = _run_folder(tmp_path / backend, "sentiment")
        assert os.path.basename(folder) == os.path.basename(_run_folder(tmp_path / "tensorflow", "sentiment"))
        assert _layout(folder) == expected, backend
        report = json.load(open(os.path.join(folder, "metrics.json")))
        assert report["extra"]["backend"] == backend and report["extra"]["evaluation_backend"] == "tensorflow"
        assert {row["kernel"] for row in report["extra"]["kernels"]} == {kernel}, backend
        assert report["extra"]["serving_check"]["max_abs_diff"] < 1e-4
        card = open(os.path.join(folder, "README.md"), encoding="utf-8").read()
        assert "computed by TensorFlow" in card and "--format onnx" in card


def test_a_recipes_process_on_another_backend_that_dies_is_named_with_its_signal(monkeypatch, capsys):
    from rnnzoo.configs import SentimentConfig
    from rnnzoo.tasks import recipe as steps

    monkeypatch.setattr(steps.subprocess, "run", lambda command, **options: subprocess.CompletedProcess(command, -11))
    with pytest.raises(SystemExit) as exit_info:
        steps._run_elsewhere("sentiment", SentimentConfig(backend="jax"), "jax")
    assert exit_info.value.code == 139
    assert capsys.readouterr().err.strip() == "error: the recipe's process on jax was killed by SIGSEGV"


def test_recipe_killed_at_three_random_points_resumes_and_ends_like_an_uninterrupted_run(tmp_path):
    """Killed with SIGKILL at three random points (during training steps and
    during each kind of save), run again after each, a recipe ends with
    exactly the metrics and history of an uninterrupted run in another
    process, and no temporary file is left behind."""
    command = [sys.executable, "-m", "recipes.sentiment", "--smoke", "--epochs", "2", "--units", "8",
               "--verbose", "0", "--export-quantize"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    seed = int(os.environ.get("RNNZOO_FAULT_SEED", random.randrange(10 ** 6)))
    rng = random.Random(seed)

    def run(name, **kill):
        result = subprocess.run(command + ["--output", str(tmp_path / name)], cwd=ROOT, capture_output=True,
                                text=True, timeout=300, env={**env, **kill})
        assert result.returncode == (-signal.SIGKILL if kill else 0), (seed, kill, result.stderr[-2000:])
        return result.stdout

    run("whole")
    killed_at = []
    folder = None
    for _ in range(3):  # three of the points, drawn anew each run (CI time: each kill is a recipe run)
        state = json.load(open(os.path.join(folder, "state.json"))) if folder and os.path.exists(
            os.path.join(folder, "state.json")) else None
        points = _kill_points(state)
        kind, where = rng.choice([p for p in points if f"{p[0]} {p[1]}" not in killed_at] or points)
        killed_at.append(f"{kind} {where}")
        run("killed", **{KILL_AT_STEP if kind == "step" else KILL_IN_SAVE: where})
        folder = folder or _run_folder(tmp_path / "killed", "sentiment")
    run("killed")
    whole_metrics, whole_history = _metrics(_run_folder(tmp_path / "whole", "sentiment"))
    metrics, history = _metrics(folder)
    context = f"seed {seed} (RNNZOO_FAULT_SEED), killed at {killed_at}"
    assert len(history["loss"]) == 2 and len(open(os.path.join(folder, "history.csv")).read().splitlines()) == 3
    for name in whole_history:
        np.testing.assert_allclose(history[name], whole_history[name], rtol=1e-6, err_msg=f"{name}; {context}")
    np.testing.assert_allclose(metrics["accuracy"], whole_metrics["accuracy"], rtol=1e-6, err_msg=context)
    assert metrics["confusion_matrix"] == whole_metrics["confusion_matrix"], context
    left = [os.path.join(base, name) for base, folders, names in os.walk(tmp_path / "killed")
            for name in folders + names if is_temporary(name)]
    assert not left, (left, context)
    assert os.path.exists(os.path.join(folder, "saved_model", "saved_model.pb")) and os.path.exists(
        os.path.join(folder, "README.md")), context


def test_recipe_reports_bad_data_clearly(tmp_path):
    bad = tmp_path / "reviews.txt"
    bad.write_text("1 fine\nunlabelled\n", encoding="utf-8")
    with pytest.raises(ValueError, match="reviews.txt:2: "):
        sentiment.main(["--data", str(bad), "--smoke", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        cli.main(["run", "no_such_recipe"])


@pytest.mark.parametrize("recipe, kind", [("translation", "an encoder and a one-step decoder"),
                                          ("captioning", "an encoder and a one-step decoder"),
                                          ("language_model", "a one-step model with states in and out")])
def test_a_quantization_a_task_cannot_export_is_refused_before_any_work(tmp_path, capsys, recipe, kind):
    # Issue 34: --export-quantize was silently ignored by the generators and the language model.
    with pytest.raises(SystemExit) as exit:
        cli.main(["run", recipe, "--export-quantize", "dynamic", "int8", "--output", str(tmp_path)])
    assert exit.value.code == 2 and not os.listdir(tmp_path)
    line = capsys.readouterr().err.strip()
    assert line == (f"error: --export-quantize int8: the {recipe} export is {kind}, which is not offered in int8; "
                    "choose from dynamic, float16 (or none). (--debug shows the traceback)")


@pytest.mark.parametrize("config, message", [
    ('[1, 2]', "expected a JSON object"),
    ('{"lowercase": true, "max_word_length": "20", "characters": true}', "'max_word_length' must be a int"),
    ('{"lowercase": true, "max_word_length": 0, "characters": false}', "'max_word_length' must be >= 1"),
    ('{"lowercase": 1, "max_word_length": 20, "characters": false}', "'lowercase' must be a bool"),
])
def test_word_encoder_config_is_validated(tmp_path, config, message):
    (tmp_path / "word_encoder.json").write_text(config, encoding="utf-8")
    with pytest.raises(ValueError, match=f"word_encoder.json: {message}"):
        tagging_task.WordEncoder.load(str(tmp_path))


FRESH_TRANSLATE = """
import sys
import tensorflow as tf
import tensorflow_text  # noqa: F401 (registers the tokenizer ops)
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
texts = [line for line in open(sys.argv[2], encoding="utf-8").read().split("\\n") if line]
assert "rnnzoo" not in sys.modules
for row in serve(text=tf.constant(texts))["translation"].numpy():
    print(row.decode("utf-8"))
"""


def test_translation_smoke_run_serves_strings_without_rnnzoo(tmp_path, capsys):
    cli.main(["run", "translation", "--smoke", "--epochs", "1", "--units", "8", "--embedding-dim", "8",
                        "--vocab-size", "200", "--beam-size", "3", "--verbose", "0", "--examples", "1",
                        "--output", str(tmp_path / "out")])
    assert "source:" in capsys.readouterr().out
    folder = _run_folder(tmp_path / "out", "translation")
    for name in ("model.keras", "source/vocabulary.txt", "target/tokenizer.json", "metrics.json",
                 "attention.png", "README.md", "saved_model/saved_model.pb"):
        assert os.path.exists(os.path.join(folder, name)), name
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert {"bleu", "bleu_greedy", "bleu_beam", "perplexity"} <= set(report["metrics"])
    assert report["extra"]["serving_check"]["agreement"] == 1.0
    _check_generator_tflite(folder, report)

    # The SavedModel, in a process that never imports rnnzoo, translates as the Python decoder does.
    model = keras.saving.load_model(os.path.join(folder, "model.keras"))
    encoders = (TextEncoder.load(os.path.join(folder, "source")),
                TextEncoder.load(os.path.join(folder, "target")))
    texts = ["the big dogs see a small cat near the house .", "a bird likes the tree .", "", "zzz"]
    sources = [row or [1] for row in encoders[0].encode_to_lists(texts)]
    decoding = report["extra"]["decoding"]
    expected = translation_task.to_text(encoders[1], translation_task.translate_ids(model, sources, **decoding))
    (tmp_path / "texts.txt").write_text("\n".join(t or " " for t in texts), encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", FRESH_TRANSLATE, os.path.join(folder, "saved_model"),
                             str(tmp_path / "texts.txt")], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": ""}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:4] == expected
    assert _check_loads_as_task(folder, "Translator", texts, expected).get_config() == decoding

    # `rnnzoo evaluate` on parallel text: sacreBLEU of the SavedModel's translations.
    references = ["die grossen hunde sehen eine kleine katze .", "ein vogel mag den baum ."]
    (tmp_path / "pairs.tsv").write_text("".join(f"{t}\t{r}\n" for t, r in zip(texts[:2], references)),
                                        encoding="utf-8")
    cli.main(["evaluate", folder, "--data", str(tmp_path / "pairs.tsv")])
    report = json.load(open(os.path.join(folder, "evaluations", report_name(tmp_path / "pairs.tsv", "test"), "metrics.json")))
    assert report["metrics"]["bleu"] == pytest.approx(sacrebleu_score(expected[:2], references))
    capsys.readouterr()
    cli.main(["predict", folder, *texts[:2]])
    assert capsys.readouterr().out.splitlines() == [f"{e}\t{t}" for e, t in zip(expected, texts[:2])]


def test_language_model_smoke_run_reports_perplexity_and_samples(tmp_path, capsys):
    cli.main(["run", "language_model", "--smoke", "--epochs", "2", "--units", "8", "--layers", "1",
                        "--embedding-dim", "8", "--sequence-length", "20", "--batch-size", "8", "--generate", "30",
                        "--prompt", "the king ", "--verbose", "0", "--output", str(tmp_path)])
    folder = _run_folder(tmp_path, "language_model")
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert np.isfinite(report["metrics"]["perplexity"]) and report["metrics"]["perplexity"] > 1
    sample = report["extra"]["sample"]["text"]
    assert len(sample) == 30 and sample in capsys.readouterr().out
    served = keras.saving.load_model(os.path.join(folder, "serving.keras"))
    assert served.get_config()["stateful"] is False and served.input.shape[0] is None
    saved = keras.saving.load_model(os.path.join(folder, "model.keras"))
    np.testing.assert_allclose(served.get_layer("logits").get_weights()[0],
                               saved.get_layer("logits").get_weights()[0])

    # The one-step TFLite model, stepped through sequences, matches the full model; the dynamic-range
    # file (--export-quantize's default) is written beside it.
    tflite = report["extra"]["tflite"]["tflite"]
    assert tflite["stream_max_abs_diff"] < 1e-4 and tflite["non_builtin_ops"] == []
    for name in ("tflite", "tflite_dynamic"):
        assert os.path.exists(os.path.join(folder, name, "model.tflite")), name
    assert report["extra"]["tflite"]["tflite_dynamic"]["stream_max_abs_diff"] < 0.1
    # The prompt-in SavedModel samples what the Python sampler sampled; `rnnzoo predict` prints prompt + sample.
    assert report["extra"]["serving_check"]["agreement"] == 1.0
    assert _signature(folder)(prompt=np.array("the king ", dtype=object))["continuation"].numpy().decode() == sample
    cli.main(["predict", folder, "the king "])
    assert capsys.readouterr().out.splitlines()[-1] == "the king " + sample
    _check_loads_as_task(folder, "LanguageModel", ["the king "], [sample])
    assert "prompt=tf.constant('the king ')" in open(os.path.join(folder, "README.md"), encoding="utf-8").read()

    # `rnnzoo evaluate` on a text file: its perplexity read as one stream, which equals the stateless
    # model's over the whole text at once.
    text = "the king is dead , long live the king"  # 37 characters: a window of 20, then one of 16
    (tmp_path / "king.txt").write_text(text, encoding="utf-8")
    cli.main(["evaluate", folder, "--data", str(tmp_path / "king.txt")])
    report = json.load(open(os.path.join(folder, "evaluations", report_name(tmp_path / "king.txt", "test"), "metrics.json")))
    encoder = TextEncoder.load(os.path.join(folder, "tokens"))
    ids = np.array(encoder.encode_to_lists([text])[0], "int32")
    shifted = served.predict(ids[None, :-1], verbose=0)[0].astype("float64")
    shifted -= shifted.max(-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    expected_loss = -np.mean(log_probabilities[np.arange(len(ids) - 1), ids[1:]])
    assert report["metrics"]["tokens"] == len(ids) - 1 == 36
    assert report["metrics"]["loss"] == pytest.approx(expected_loss, rel=1e-4)


def test_a_classifier_starts_from_a_pretrained_awd_language_model_ulmfit(tmp_path, capsys):
    # Pretraining with every AWD-LSTM regularizer, then ULMFiT: the classifier takes the language model's
    # vocabulary, embedding and recurrent layer; with gradual unfreezing the embedding (the bottom group)
    # does not move in the first two epochs, so the saved classifier still holds the language model's.
    cli.main(["run", "language_model", "--smoke", "--epochs", "1", "--level", "word", "--units", "8", "--layers",
              "1", "--embedding-dim", "6", "--sequence-length", "20", "--batch-size", "8", "--generate", "5",
              "--tie-embeddings", "--weight-drop", "0.2", "--embedding-dropout", "0.1", "--locked-dropout",
              "--ar", "1", "--tar", "1", "--export-quantize", "--verbose", "0", "--output", str(tmp_path / "lm")])
    general = _run_folder(tmp_path / "lm", "language_model")
    # ULMFiT's second stage: the language model fine-tuned on other text keeps its vocabulary and architecture,
    # and goes on from its weights (so its loss after one more epoch is below the first run's).
    cli.main(["run", "language_model", "--smoke", "--epochs", "1", "--init-from", general, "--sequence-length", "20",
              "--batch-size", "8", "--generate", "5", "--export-quantize", "--verbose", "0",
              "--output", str(tmp_path / "lm_tuned")])
    pretrained = _run_folder(tmp_path / "lm_tuned", "language_model")
    tuned = json.load(open(os.path.join(pretrained, "config.json")))
    assert (tuned["level"], tuned["units"], tuned["tie_embeddings"], tuned["cell_options"]) == (
        "word", 8, True, {"weight_drop": 0.2})
    assert (open(os.path.join(pretrained, "tokens", "vocabulary.txt")).read()
            == open(os.path.join(general, "tokens", "vocabulary.txt")).read())
    losses = [json.load(open(os.path.join(folder, "metrics.json")))["metrics"]["loss"] for folder in (general, pretrained)]
    assert losses[1] < losses[0], losses
    cli.main(["run", "sentiment", "--smoke", "--epochs", "2", "--patience", "2", "--init-from", pretrained,
              "--pooling", "concat", "--export-quantize", "--verbose", "0", "--output", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "embedding, encoder_rnn_0" in out and "epoch 1: training logits" in out
    assert "epoch 2: training encoder_rnn_0, logits" in out
    folder = _run_folder(tmp_path / "out", "sentiment")
    assert "-bi-" not in os.path.basename(folder)  # the run is named and described as what was built
    assert json.load(open(os.path.join(folder, "config.json")))["units"] == 8
    assert "started from the language model" in open(os.path.join(folder, "README.md")).read()
    assert (open(os.path.join(folder, "tokens", "vocabulary.txt")).read()
            == open(os.path.join(pretrained, "tokens", "vocabulary.txt")).read())
    classifier = keras.saving.load_model(os.path.join(folder, "model.keras"))
    language_model = keras.saving.load_model(os.path.join(pretrained, "serving.keras"))
    np.testing.assert_array_equal(classifier.get_layer("embedding").get_weights()[0],
                                  language_model.get_layer("embedding").get_weights()[0])
    assert classifier.get_config()["pooling"] == "concat" and classifier.get_config()["bidirectional"] is False
    with pytest.raises(ValueError, match="character-level language model"):
        sentiment.main(["--smoke", "--init-from", _character_language_model(tmp_path), "--output", str(tmp_path)])

    # The document classifier too, reading each document's words in order (--model flat).
    cli.main(["run", "document_classification", "--smoke", "--epochs", "1", "--model", "flat", "--pooling", "concat",
              "--init-from", pretrained, "--explain", "0", "--export-quantize", "--verbose", "0",
              "--output", str(tmp_path / "documents")])
    documents = keras.saving.load_model(os.path.join(_run_folder(tmp_path / "documents", "document_classification"),
                                                     "model.keras"))
    np.testing.assert_array_equal(documents.get_layer("embedding").get_weights()[0],
                                  language_model.get_layer("embedding").get_weights()[0])
    with pytest.raises(ValueError, match="--model flat"):
        document_classification.main(["--smoke", "--init-from", pretrained, "--output", str(tmp_path / "documents")])


def test_a_tagger_reads_forward_and_backward_character_language_models(tmp_path, capsys):
    # Contextual string embeddings: the tagger's layer holds the language models' weights, frozen through
    # training, and the SavedModel (raw text in) agrees with Keras.
    from rnnzoo.tasks.language_model import LanguageModel

    forward = _character_language_model(tmp_path)
    backward = str(tmp_path / "backward")
    LanguageModel.from_examples(["the king is dead"], units=4, embedding_dim=4, backward=True).save_to_preset(backward)
    tagging.main(["--smoke", "--epochs", "1", "--units", "8", "--verbose", "0", "--string-embeddings",
                  f"{backward},{forward}", "--output", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "contextual string embeddings (frozen): forward, backward" in out and "TFLite: not written" in out
    folder = _run_folder(tmp_path / "out", "tagging")
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert report["extra"]["serving_check"]["sentence_agreement"] == 1.0
    assert report["extra"]["serving_check"]["max_abs_diff"] < 1e-4
    layer = keras.saving.load_model(os.path.join(folder, "model.keras")).get_layer("string_embeddings")
    for direction, preset in (("forward", forward), ("backward", backward)):
        language_model = keras.saving.load_model(os.path.join(preset, "model.keras"))
        for found, expected in zip(getattr(layer, f"{direction}_rnn")[0].get_weights(),
                                   language_model.get_layer("encoder_rnn_0").get_weights(), strict=True):
            np.testing.assert_array_equal(found, expected)
    with pytest.raises(ValueError, match="at most one forward and one backward"):
        tagging.main(["--smoke", "--string-embeddings", f"{forward},{forward}", "--output", str(tmp_path / "out")])


def _character_language_model(tmp_path):
    from rnnzoo.tasks.language_model import LanguageModel

    LanguageModel.from_examples(["the king is dead"], units=4, embedding_dim=4).save_to_preset(tmp_path / "characters")
    return str(tmp_path / "characters")


def _check_generator_tflite(folder, report):
    """A generator's run exports its encoder and one-step decoder as builtin-only TFLite files that, stepped by
    a greedy loop, decode what Keras decodes; each --export-quantize variant gets the same pair."""
    variants = report["extra"]["tflite"]
    tflite = variants["tflite"]
    assert tflite["decode_agreement"] == 1.0 and tflite["non_builtin_ops"] == [] and tflite["examples"] == 8
    card = open(os.path.join(folder, "README.md"), encoding="utf-8").read()
    for name, entry in variants.items():
        assert "error" not in entry, entry
        for part in ("encoder", "step"):
            assert os.path.exists(os.path.join(folder, name, part, "model.tflite")), (name, part)
        assert f"{name}/step/model.tflite" in card


def test_language_model_windows_continue_each_stream():
    from rnnzoo.tasks import language_model as lm_task

    ids = np.arange(1, 42, dtype="int32")  # 41 tokens: 2 streams of 20 (+1 target), windows of 6
    inputs, targets = lm_task.stream_windows(ids, streams=2, window=6)
    assert inputs.shape == targets.shape == (3, 2, 6)
    np.testing.assert_array_equal(inputs[:, 0].reshape(-1), np.arange(1, 19))    # stream 0, in order
    np.testing.assert_array_equal(inputs[:, 1].reshape(-1), np.arange(21, 39))   # stream 1
    np.testing.assert_array_equal(targets, inputs + 1)
    with pytest.raises(ValueError, match="too short"):
        lm_task.stream_windows(ids[:5], streams=2, window=6)


FRESH_CAPTION = """
import sys
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
assert "rnnzoo" not in sys.modules
for row in serve(image=tf.constant(np.load(sys.argv[2])))["caption"].numpy():
    print(row.decode("utf-8"))
"""


def test_captioning_smoke_run_serves_captions_from_images(tmp_path, capsys):
    from recipes import captioning

    metrics = captioning.main(["--smoke", "--epochs", "1", "--units", "8", "--embedding-dim", "8",
                               "--cnn-filters", "4", "--beam-size", "2", "--verbose", "0", "--export-quantize",
                               "--output", str(tmp_path / "out")])
    assert {"bleu_1", "bleu_4", "wer", "bleu_4_greedy", "wer_greedy"} <= set(metrics)
    folder = _run_folder(tmp_path / "out", "captioning")
    for name in ("model.keras", "tokens/vocabulary.txt", "captions.png", "metrics.json",
                 "saved_model/saved_model.pb"):
        assert os.path.exists(os.path.join(folder, name)), name
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert report["extra"]["serving_check"]["agreement"] == 1.0
    _check_generator_tflite(folder, report)

    model = keras.saving.load_model(os.path.join(folder, "model.keras"))
    encoder = TextEncoder.load(os.path.join(folder, "tokens"))
    images = np.stack([e.image for e in load_builtin("digit_strips", "test", size=5)])
    decoding = report["extra"]["decoding"]
    expected = captioning_task.to_text(encoder, captioning_task.caption_ids(model, images, **decoding))
    np.save(tmp_path / "images.npy", images)
    result = subprocess.run([sys.executable, "-c", FRESH_CAPTION, os.path.join(folder, "saved_model"),
                             str(tmp_path / "images.npy")], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:5] == expected
    _check_loads_as_task(folder, "Captioner", images, expected)

    # `rnnzoo predict` reads image files in another colour mode (and size) than the model's.
    import tensorflow as tf

    pixels = np.round(images[0] * 255).astype("uint8")  # (height, width, 1)
    (tmp_path / "gray.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (tmp_path / "rgb.png").write_bytes(tf.io.encode_png(np.repeat(pixels, 3, axis=-1)).numpy())
    big = np.repeat(np.repeat(np.repeat(pixels, 3, axis=-1), 2, axis=0), 2, axis=1)
    (tmp_path / "big.png").write_bytes(tf.io.encode_png(big).numpy())
    served = _signature(folder)(image=tf.constant(pixels[None] / 255, tf.float32))["caption"].numpy()[0].decode()
    capsys.readouterr()
    cli.main(["predict", folder, str(tmp_path / "gray.png"), str(tmp_path / "rgb.png"), str(tmp_path / "big.png")])
    printed = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [caption for caption, _ in printed[:2]] == [served, served]
    assert printed[2][1] == str(tmp_path / "big.png")
    with pytest.raises(SystemExit, match="images.npy: not a readable image"):
        cli.main(["predict", folder, str(tmp_path / "images.npy")])
    assert "image.png" in open(os.path.join(folder, "README.md"), encoding="utf-8").read()

    # `rnnzoo evaluate` on a captions file and its images: BLEU and WER of the SavedModel's captions.
    (tmp_path / "photos").mkdir()
    for name in ("gray.png", "rgb.png"):
        os.replace(tmp_path / name, tmp_path / "photos" / name)
    (tmp_path / "captions.txt").write_text("gray.png#0\tsix nine two\nrgb.png#0\tfour one\nrgb.png#1\tfour\n",
                                           encoding="utf-8")
    with pytest.raises(SystemExit, match="give --images"):
        cli.main(["evaluate", folder, "--data", str(tmp_path / "captions.txt")])
    cli.main(["evaluate", folder, "--data", str(tmp_path / "captions.txt"), "--images", str(tmp_path / "photos")])
    report = json.load(open(os.path.join(folder, "evaluations", report_name(tmp_path / "captions.txt", "test"), "metrics.json")))
    expected_scores = captioning_task.score([["six nine two"], ["four one", "four"]], [served, served])
    assert report["num_examples"] == 2 and report["metrics"] == pytest.approx(expected_scores)


def test_speech_smoke_run_reports_wer_and_serves_wav_files(tmp_path, capsys):
    from recipes import speech

    metrics = speech.main(["--smoke", "--epochs", "1", "--units", "8", "--layers", "1", "--conv-filters", "8",
                           "--beam-width", "3", "--verbose", "0", "--output", str(tmp_path)])
    assert {"wer", "wer_greedy", "wer_beam", "string_accuracy_beam"} <= set(metrics)
    assert metrics["wer_greedy"] >= 0 and metrics["wer"] == metrics["wer_beam"]
    folder = _run_folder(tmp_path, "speech")
    assert os.path.exists(os.path.join(folder, "model.keras"))
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert report["extra"]["serving_check"]["agreement"] == 1.0  # the SavedModel decodes as the Python decoder
    tflite = report["extra"]["tflite"]  # the CTC model as TFLite, scored by WER on validation strings
    assert tflite["tflite"]["parity_max_abs_diff"] < 1e-4 and tflite["tflite_dynamic"]["non_builtin_ops"] == []
    assert tflite["tflite"]["metric"] == pytest.approx(tflite["keras_metric"])
    assert "waveform=tf.constant(samples)" in open(os.path.join(folder, "README.md"), encoding="utf-8").read()

    # `rnnzoo predict` on WAV files: 8 kHz mono as served; 16 kHz stereo is mixed down and resampled.
    samples, _ = speech_task.digit_strings(load_builtin("spoken_digits", "test", size=5), 1,
                                      np.random.default_rng(1), 2, 3)[0]
    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    _write_wav(tmp_path / "mono.wav", pcm[:, None], 8000)
    _write_wav(tmp_path / "stereo.wav", np.repeat(np.repeat(pcm, 2)[:, None], 2, axis=1), 16000)
    expected = _signature(folder)(waveform=pcm.astype("float32") / 32768)["transcript"].numpy().decode()
    _check_loads_as_task(folder, "SpeechRecognizer", [str(tmp_path / "mono.wav")], [expected])
    cli.main(["predict", folder, str(tmp_path / "mono.wav"), str(tmp_path / "stereo.wav")])
    printed = [line.split("\t") for line in capsys.readouterr().out.splitlines()[-2:]]
    assert printed[0] == [expected, str(tmp_path / "mono.wav")] and printed[1][1] == str(tmp_path / "stereo.wav")
    (tmp_path / "notes.wav").write_text("not audio", encoding="utf-8")
    with pytest.raises(SystemExit, match="notes.wav: not a wav file"):
        cli.main(["predict", folder, str(tmp_path / "notes.wav")])

    # `rnnzoo evaluate` on a folder of FSDD-style recordings: each transcript against the digit in its name.
    (tmp_path / "recordings").mkdir()
    clips = load_builtin("spoken_digits", "test", size=3)
    for index, clip in enumerate(clips):
        _write_wav(tmp_path / "recordings" / f"{clip.label}_lucas_{index}.wav",
                   np.round(np.clip(clip.path, -1, 1) * 32767)[:, None], 8000)
    cli.main(["evaluate", folder, "--data", str(tmp_path / "recordings")])
    report = json.load(open(os.path.join(folder, "evaluations", report_name(tmp_path / "recordings", "test"), "metrics.json")))
    serve = _signature(folder)
    transcripts = [serve(waveform=(np.round(np.clip(c.path, -1, 1) * 32767) / 32768).astype("float32"))["transcript"]
                   .numpy().decode() for c in clips]
    references = [speech_task.words([int(c.label) + 1]) for c in clips]
    assert report["num_examples"] == 3
    assert report["metrics"]["accuracy"] == pytest.approx(np.mean([t == r for t, r in zip(transcripts, references)]))


def _write_wav(path, frames, rate):
    import wave

    with wave.open(str(path), "wb") as f:
        f.setnchannels(frames.shape[1])
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(frames.astype("<i2").tobytes())


def test_waveforms_at_another_rate_are_resampled(tmp_path):
    from rnnzoo.tasks.speech import read_waveform

    rate = 16000
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate)  # one second of A4
    _write_wav(tmp_path / "tone.wav", np.round(np.stack([tone, tone], 1) * 16000), rate)
    samples = read_waveform(str(tmp_path / "tone.wav"))
    assert samples.shape == (8000,) and samples.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second


def test_speech_strings_join_recordings_of_their_own_split():
    clips = load_builtin("spoken_digits", "test", size=20)
    strings = speech_task.digit_strings(clips, 10, np.random.default_rng(0), 2, 5)
    for samples, labels in strings:
        assert 2 <= len(labels) <= 5 and all(1 <= label <= 10 for label in labels)
        shortest = min(len(c.path) for c in clips)
        assert len(samples) >= len(labels) * shortest
    assert speech_task.words([1, 10, 5]) == "zero nine four"


def test_forecasting_smoke_run_serves_raw_windows_and_predicts_csv_files(tmp_path, capsys):
    from recipes import forecasting
    from rnnzoo.data.builtin.series import multi_seasonal_series

    metrics = forecasting.main(["--smoke", "--epochs", "1", "--units", "16", "--verbose", "0",
                                "--export-quantize", "--output", str(tmp_path / "out")])
    assert {"mse", "mae", "mae_units", "baselines", "mse_by_step"} <= set(metrics)
    assert set(metrics["baselines"]) == {"naive", "seasonal_naive"} and len(metrics["mse_by_step"]) == 96
    assert set(metrics["mae_units"]) == {"load_a", "load_b", "OT"}
    folder = _run_folder(tmp_path / "out", "forecasting")
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert report["extra"]["serving_check"]["max_abs_diff"] < 1e-3  # raw window in, forecast in the series' units
    assert report["extra"]["tflite"]["tflite"]["parity_max_abs_diff"] < 1e-3
    for name in ("normalization.json", "forecasts.png", "error_by_step.png", "README.md", "history.csv"):
        assert os.path.exists(os.path.join(folder, name)), name

    # `rnnzoo predict RUN series.csv`: the next 96 hours after the file's last 96 rows, in its units.
    series = multi_seasonal_series()
    rows = [f"{t.astype('datetime64[s]').item():%Y-%m-%d %H:%M:%S},{a},{b},{c}"
            for t, (a, b, c) in zip(series.timestamps[-120:], series.values[-120:])]
    (tmp_path / "recent.csv").write_text("date,load_a,load_b,OT\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cli.main(["predict", folder, str(tmp_path / "recent.csv")])
    lines = capsys.readouterr().out.strip().splitlines()[-98:]
    assert lines[0] == f"# forecast after {tmp_path / 'recent.csv'}" and lines[1] == "date,load_a,load_b,OT"
    first = series.timestamps[-1] + np.timedelta64(1, "h")
    assert lines[2].startswith(str(first)) and len(lines) == 98
    served = _signature(folder)(window=series.values[None, -96:])["forecast"].numpy()[0]
    _check_loads_as_task(folder, "Forecaster", series.values[None, -96:], served[None])
    np.testing.assert_allclose([float(v) for v in lines[2].split(",")[1:]], served[0], rtol=1e-4, atol=1e-4)

    # `rnnzoo evaluate`: every window of a CSV file, through the SavedModel, scored on the run's z-scale.
    with pytest.raises(SystemExit, match=r"recent.csv: 120 rows; a window needs the run's lookback 96 \+ horizon 96"):
        cli.main(["evaluate", folder, "--data", str(tmp_path / "recent.csv")])
    rows = [f"{t.astype('datetime64[s]').item():%Y-%m-%d %H:%M:%S},{c},{b},{a}"  # columns in another order
            for t, (a, b, c) in zip(series.timestamps[-200:], series.values[-200:])]
    (tmp_path / "longer.csv").write_text("date,OT,load_b,load_a\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cli.main(["evaluate", folder, "--data", str(tmp_path / "longer.csv"), "--output", str(tmp_path / "e.json")])
    evaluated = json.load(open(tmp_path / "e.json"))
    assert evaluated["num_examples"] == 200 - 192 + 1
    standardizer = json.load(open(os.path.join(folder, "normalization.json")))
    std = np.array(standardizer["std"])
    values = series.values[-200:]
    history = np.stack([values[i:i + 96] for i in range(9)]).astype("float32")
    future = np.stack([values[i + 96:i + 192] for i in range(9)])
    forecast = _signature(folder)(window=history)["forecast"].numpy()
    expected = np.mean(((forecast - future) / std) ** 2)
    assert evaluated["metrics"]["mse"] == pytest.approx(expected, rel=1e-4)
    naive = np.mean(((history[:, -1:] - future) / std) ** 2)
    assert evaluated["metrics"]["baselines"]["naive"]["mse"] == pytest.approx(naive, rel=1e-4)
    # A split of the built-in series is the recipe's own chronological cut (all of it, not the smoke run's part).
    path, metrics = evaluate_run_folder(folder, "builtin", split="validation")
    assert json.load(open(path))["num_examples"] == 309 and metrics["mse"] > 0


def test_forecasting_refuses_bad_series_clearly(tmp_path):
    from recipes import forecasting

    gap = tmp_path / "gap.csv"
    gap.write_text("date,OT\n2020-01-01 00:00:00,1\n2020-01-01 01:00:00,2\n2020-01-01 03:00:00,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"gap.csv:4: 1 missing step\(s\).*--fill"):
        forecasting.main(["--data", str(gap), "--output", str(tmp_path / "out"), "--verbose", "0"])
    short = tmp_path / "short.csv"
    short.write_text("date,OT\n" + "".join(f"2020-01-01 {h:02d}:00:00,{h}\n" for h in range(24)), encoding="utf-8")
    with pytest.raises(ValueError, match=r"the train split has 16 rows .* --lookback 96 \+ --horizon 96"):
        forecasting.main(["--data", str(short), "--output", str(tmp_path / "out"), "--verbose", "0"])
    with pytest.raises(ValueError, match=r"one recurrent layer: drop --layers"):
        forecasting.main(["--layers", "2", "--output", str(tmp_path / "out")])
    with pytest.raises(ValueError, match=r"--target price: no such column; the series has OT"):
        forecasting.main(["--data", str(short), "--target", "price", "--output", str(tmp_path / "out")])
    with pytest.raises(ValueError, match=r"--data m4_hourly: a panel .* python -m recipes.global_forecasting"):
        forecasting.main(["--data", "m4_hourly", "--output", str(tmp_path / "out")])


@pytest.mark.parametrize("name,class_name,calendar", [("direct", "DirectForecaster", True),
                                                     ("seq2seq", "Seq2SeqForecaster", False)])
def test_forecasting_recurrent_models_smoke_run(tmp_path, capsys, name, class_name, calendar):
    from recipes import forecasting
    from rnnzoo.data.builtin.series import multi_seasonal_series
    from rnnzoo.layers.calendar import hours_since_epoch

    metrics = forecasting.main(["--model", name, "--layers", "2", "--channel-independent", "--smoke",
                                "--epochs", "1", "--units", "8", "--verbose", "0", "--export-quantize",
                                "--output", str(tmp_path)] + ["--calendar"] * calendar)
    folder = _run_folder(tmp_path, "forecasting")
    report = json.load(open(os.path.join(folder, "metrics.json")))
    assert metrics["mse"] >= 0 and report["extra"]["serving_check"]["max_abs_diff"] < 1e-3
    assert report["extra"]["tflite"]["tflite"]["parity_max_abs_diff"] < 1e-3
    model = report["model"]
    assert model["class_name"] == class_name and model["config"]["channel_independent"]
    assert model["config"]["num_layers"] == 2 and model["config"]["calendar_step_hours"] == (1.0 if calendar else None)
    if not calendar:
        return
    # The served model takes `time` beside the window; `rnnzoo predict` and `evaluate` derive it from the file.
    series = multi_seasonal_series()
    rows = [f"{t.astype('datetime64[s]').item():%Y-%m-%d %H:%M:%S},{a},{b},{c}"
            for t, (a, b, c) in zip(series.timestamps[-200:], series.values[-200:])]
    (tmp_path / "recent.csv").write_text("date,load_a,load_b,OT\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cli.main(["predict", folder, str(tmp_path / "recent.csv")])
    first = capsys.readouterr().out.strip().splitlines()[-96].split(",")
    time = hours_since_epoch(series.timestamps[-1:]).astype("float32")[None]
    served = _signature(folder)(window=series.values[None, -96:], time=time)["forecast"].numpy()[0]
    np.testing.assert_allclose([float(v) for v in first[1:]], served[0], rtol=1e-4, atol=1e-4)
    earlier = _signature(folder)(window=series.values[None, -96:], time=time - 7.0)["forecast"].numpy()[0]
    assert not np.allclose(earlier, served, atol=1e-4)  # the hour of day reaches the forecast
    cli.main(["evaluate", folder, "--data", str(tmp_path / "recent.csv"), "--output", str(tmp_path / "e.json")])
    evaluated = json.load(open(tmp_path / "e.json"))
    history = np.stack([series.values[-200 + i: -200 + i + 96] for i in range(9)]).astype("float32")
    times = hours_since_epoch(series.timestamps[-200 + 95: -200 + 104]).astype("float32")[:, None]
    future = np.stack([series.values[-200 + i + 96: len(series) - 200 + i + 192] for i in range(9)])
    std = np.array(json.load(open(os.path.join(folder, "normalization.json")))["std"])
    forecast = _signature(folder)(window=history, time=times)["forecast"].numpy()
    assert evaluated["metrics"]["mse"] == pytest.approx(np.mean(((forecast - future) / std) ** 2), rel=1e-4)
