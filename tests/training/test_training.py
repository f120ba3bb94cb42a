"""The shared recipe machinery: run folders, the resumable epoch loop,
`--data` resolution and pretrained word vectors."""

import json
import os

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.data import RESERVED_TOKENS, DataFormatError, Vocabulary, formats
from rnnzoo.data.sources import load_split, load_splits
from rnnzoo.training import RunFolder, TrainingError, fit
from rnnzoo.training.runs import default_run_name

OPTIONS = {"data": "builtin", "cell": "lstm", "bidirectional": True, "units": 8, "epochs": 2,
           "output": None, "run": None, "restart": False, "verbose": 0}


def _options(tmp_path, **changes):
    return {**OPTIONS, "output": str(tmp_path), **changes}


def test_run_name_depends_on_training_options_only(tmp_path):
    name = default_run_name(_options(tmp_path))
    assert name.startswith("builtin-lstm-bi-")
    assert default_run_name(_options(tmp_path, verbose=2, output="elsewhere")) == name
    assert default_run_name(_options(tmp_path, units=16)) != name
    # No --cell-option leaves the name of runs made before the option existed; one changes it.
    assert default_run_name(_options(tmp_path, cell_options=None)) == name
    assert default_run_name(_options(tmp_path, cell_options={"block": True})) != name


def test_cell_options_are_parsed_and_reach_the_model():
    from rnnzoo.cli.arguments import parse_config
    from rnnzoo.configs import SentimentConfig

    config = parse_config(SentimentConfig, ["--cell", "rg_lru", "--cell-option", "block=true", "--cell-option",
                                            "conv_width=3", "--cell-option", "parallel_scan=auto"], prog="test")
    assert config.cell_options == {"block": True, "conv_width": 3, "parallel_scan": "auto"}
    assert parse_config(SentimentConfig, [], prog="test").cell_options is None
    with pytest.raises(SystemExit) as error:  # argparse's usage error, status 2
        parse_config(SentimentConfig, ["--cell-option", "block"], prog="test")
    assert error.value.code == 2
    model = rnnzoo.build_model("many_to_one", vocab_size=10, num_classes=2, units=4, cell=config.cell,
                               cell_options=config.cell_options)
    assert any(getattr(layer, "cell", None) is not None and layer.cell.block and layer.cell.conv_width == 3
               for layer in model._flatten_layers())


def test_run_folder_refuses_other_options_and_restart_replaces(tmp_path):
    run = RunFolder.create("demo", _options(tmp_path, run="mine"))
    with open(run.file("keep.txt"), "w") as f:
        f.write("x")
    with pytest.raises(ValueError, match=r"other options \(units: 8 -> 16\).*--restart"):
        RunFolder.create("demo", _options(tmp_path, run="mine", units=16))
    assert os.path.exists(run.file("keep.txt"))  # nothing touched by the refusal
    RunFolder.create("demo", _options(tmp_path, run="mine", units=16, restart=True))
    assert not os.path.exists(run.file("keep.txt"))


def test_broken_state_file_is_named(tmp_path):
    run = RunFolder.create("demo", _options(tmp_path))
    with open(run.file("state.json"), "w") as f:
        json.dump({"epoch": "two"}, f)
    with pytest.raises(DataFormatError, match="state.json: 'epoch' is missing or of the wrong type"):
        run.load_state()


def _data(rng, count=64):
    x = rng.integers(1, 10, size=(count, 6))
    y = (x[:, 0] > 5).astype("int32")
    return x, y


def _dataset(x, y, epoch=0):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=epoch).batch(16)


def _model():
    return rnnzoo.build_model("many_to_one", vocab_size=10, num_classes=2, units=4, embedding_dim=4)


def test_fit_resumes_from_the_last_checkpoint(tmp_path):
    x, y = _data(np.random.default_rng(0))
    run = RunFolder.create("demo", _options(tmp_path))
    args = dict(epochs=1, patience=5, monitor="val_accuracy", mode="max", verbose=0)
    _, state = fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, **args)
    assert state["epoch"] == 1 and os.path.exists(run.checkpoint_path) and os.path.exists(run.model_path)
    # Unfinish it, as if the process died after epoch 1 of 3.
    state["finished"] = False
    run.save_state(state)
    messages = []
    args["epochs"] = 3
    model, state = fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, log=messages.append, **args)
    assert any("resuming after epoch 1" in m for m in messages)
    assert state["epoch"] == 3 and len(state["history"]["loss"]) == 3 and state["finished"]
    # A finished run is not trained again.
    messages.clear()
    _, again = fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, log=messages.append, **args)
    assert again["epoch"] == 3 and "already finished" in messages[0]


def test_another_seed_trains_another_model(tmp_path):
    """The seed reaches the shuffles and the dropout masks: the resume tests
    compare runs of one seed, which only means something if seeds differ."""
    x, y = _data(np.random.default_rng(8))
    losses = []
    for seed in (0, 1):
        run = RunFolder.create("demo", _options(tmp_path, run=f"seed{seed}"))
        keras.utils.set_random_seed(0)  # the same initial weights
        model = rnnzoo.build_model("many_to_one", vocab_size=10, num_classes=2, units=4, embedding_dim=4, dropout=0.5)
        _, state = fit(model, lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=2, patience=5,
                       seed=seed, verbose=0, log=lambda m: None)
        losses.append(state["history"]["loss"])
    assert losses[0][0] != losses[1][0]


def test_fit_stops_early_and_keeps_the_best_model(tmp_path):
    x, y = _data(np.random.default_rng(1))
    run = RunFolder.create("demo", _options(tmp_path))
    scores = iter([0.5, 0.9, 0.7, 0.6, 0.95])
    model, state = fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=5, patience=2,
                       monitor="val_score", mode="max", verbose=0, validate=lambda m: {"val_score": next(scores)},
                       log=lambda m: None)
    assert state["stopped_early"] and state["epoch"] == 4 and state["best_epoch"] == 2 and state["best"] == 0.9


def test_lr_decay_halves_the_rate_after_each_epoch_without_improvement_and_survives_resume(tmp_path):
    x, y = _data(np.random.default_rng(1))
    run = RunFolder.create("demo", _options(tmp_path))
    scores = iter([0.5, 0.9, 0.7, 0.6])  # epochs 3 and 4 are no better
    rates = []

    def validate(model):
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        return {"val_score": next(scores)}

    model = _model()
    initial = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    fit(model, lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=3, patience=5, monitor="val_score",
        mode="max", verbose=0, validate=validate, log=lambda m: None, lr_decay=0.5)
    assert rates == pytest.approx([initial, initial, initial])
    state = run.load_state()
    state["finished"] = False
    run.save_state(state)
    fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=4, patience=5, monitor="val_score",
        mode="max", verbose=0, validate=validate, log=lambda m: None, lr_decay=0.5)
    assert rates[3] == pytest.approx(initial / 2)  # decayed after epoch 3, kept in the checkpoint


def _one_unfinished_epoch(tmp_path, seed):
    """A run folder after epoch 1 of more, as if the process had died."""
    x, y = _data(np.random.default_rng(seed))
    run = RunFolder.create("demo", _options(tmp_path))
    fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=1, patience=3, verbose=0)
    state = run.load_state()
    state["finished"] = False
    run.save_state(state)
    return run, x, y


def test_fit_stops_on_a_non_finite_loss_and_keeps_the_last_good_checkpoint(tmp_path):
    run, x, y = _one_unfinished_epoch(tmp_path, seed=2)
    backup = open(run.checkpoint_path, "rb").read()
    model = _model()

    def poison(epoch, logs=None):  # epoch 2's weights go non-finite, as with too high a learning rate
        bad = model.get_layer("embedding").embeddings
        bad.assign(np.full(bad.shape, np.nan, "float32"))

    with pytest.raises(TrainingError, match="loss is nan.*last good checkpoint \\(epoch 1\\)"):
        fit(model, lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=3, patience=3, verbose=0,
            log=lambda m: None, callbacks=[keras.callbacks.LambdaCallback(on_epoch_begin=poison)])
    assert run.load_state()["epoch"] == 1 and not run.load_state()["finished"]
    assert open(run.checkpoint_path, "rb").read() == backup  # TerminateOnNaN stopped it; nothing was backed up
    assert np.isfinite(keras.saving.load_model(run.model_path).get_layer("embedding").embeddings.numpy()).all()


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def _load_lines(path):
    return formats.load_labeled_lines(path, "label_first")


def test_data_from_one_file_is_split_80_10_10(tmp_path):
    path = _write(tmp_path / "all.txt", "".join(f"{i % 2} text number {i}\n" for i in range(100)))
    splits = load_splits(path, builtin="sentiment", load_path=_load_lines)
    assert [len(splits[s]) for s in ("train", "validation", "test")] == [80, 10, 10]
    texts = [e.text for s in splits.values() for e in s]
    assert len(set(texts)) == 100


def test_data_folder_splits_by_file_name(tmp_path):
    for name, count in (("x.train", 30), ("x.dev", 5), ("x.test", 6)):
        _write(tmp_path / "sst" / name, "".join(f"1 {name} {i}\n" for i in range(count)))
    splits = load_splits(str(tmp_path / "sst"), builtin="sentiment", load_path=_load_lines)
    assert [len(splits[s]) for s in ("train", "validation", "test")] == [30, 5, 6]
    _write(tmp_path / "notest" / "a.train", "1 a\n" * 20)
    with pytest.raises(ValueError, match="no test split"):
        load_splits(str(tmp_path / "notest"), builtin="sentiment", load_path=_load_lines)


def test_one_split_to_score_on_is_a_whole_file_or_the_entry_named_for_it(tmp_path):
    path = _write(tmp_path / "all.txt", "".join(f"{i % 2} text number {i}\n" for i in range(100)))
    assert len(load_split(path, "test", builtin="sentiment", load_path=_load_lines)) == 100
    for name, count in (("x.train", 30), ("x.dev", 5), ("x.test", 6)):
        _write(tmp_path / "sst" / name, "".join(f"1 {name} {i}\n" for i in range(count)))
    folder = str(tmp_path / "sst")
    assert len(load_split(folder, "test", builtin="sentiment", load_path=_load_lines)) == 6
    assert len(load_split(folder, "validation", builtin="sentiment", load_path=_load_lines)) == 5
    assert len(load_split("builtin", "test", builtin="sentiment", load_path=_load_lines)) > 0
    _write(tmp_path / "notest" / "a.train", "1 a\n" * 20)
    with pytest.raises(ValueError, match="no file or folder named for the test split"):
        load_split(str(tmp_path / "notest"), "test", builtin="sentiment", load_path=_load_lines)
    with pytest.raises(ValueError, match="split must be one of train, validation, test"):
        load_split(path, "dev", builtin="sentiment", load_path=_load_lines)


def test_unknown_data_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder, and not a known dataset name"):
        load_splits(str(tmp_path / "missing.txt"), builtin="sentiment", load_path=_load_lines)
    with pytest.raises(ValueError, match="does not fit this recipe"):
        load_splits("wnut17", builtin="sentiment", load_path=_load_lines, names=("sst2",))


def test_word_vectors_fill_known_words(tmp_path):
    vocabulary = Vocabulary([*RESERVED_TOKENS, "good", "bad", "film"])
    glove = _write(tmp_path / "glove.txt", "good 1 2 3\nunrelated 9 9 9\nbad -1 -2 -3\n")
    matrix, found = formats.load_word_vectors(glove, vocabulary)
    assert found == 2 and matrix.shape == (7, 3)
    np.testing.assert_array_equal(matrix[4], [1, 2, 3])
    np.testing.assert_array_equal(matrix[0], 0)
    word2vec = _write(tmp_path / "w2v.txt", "2 3\nfilm 0.5 0.5 0.5\ngood 1 1 1\n")
    matrix, found = formats.load_word_vectors(word2vec, vocabulary)
    assert found == 2 and matrix[6].tolist() == [0.5, 0.5, 0.5]
    ragged = _write(tmp_path / "bad.txt", "good 1 2 3\nbad 1 2\n")
    with pytest.raises(DataFormatError, match="bad.txt:2: has 2 values; earlier lines have 3"):
        formats.load_word_vectors(ragged, vocabulary)
    not_numbers = _write(tmp_path / "nan.txt", "good 1 2 x\n")
    with pytest.raises(DataFormatError, match="nan.txt:1: .*not a number"):
        formats.load_word_vectors(not_numbers, vocabulary)


def _lambda_model(path):
    inputs = keras.Input((4,), dtype="int32")
    outputs = keras.layers.Lambda(lambda x: x * 2)(keras.layers.Embedding(10, 3)(inputs))
    keras.Model(inputs, outputs).save(path)
    return str(path)


def test_a_model_carrying_code_is_refused_everywhere_rnnzoo_loads(tmp_path):
    from rnnzoo import cli
    from rnnzoo.utils.saving import UnsafeModelError, load_model

    path = _lambda_model(tmp_path / "model.keras")
    with pytest.raises(UnsafeModelError, match=r"model.keras: refused to load: the model holds a Lambda layer"):
        load_model(path)
    # `rnnzoo export RUN_DIR` loads the run's model.keras: it exits with one clear line.
    with pytest.raises(SystemExit, match=r"^rnnzoo export: .*model.keras: refused to load"):
        cli.main(["export", str(tmp_path)])


def test_a_broken_model_file_is_named(tmp_path):
    from rnnzoo.utils.saving import load_model

    bad = tmp_path / "model.keras"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="model.keras: the file is damaged: not a complete .keras archive"):
        load_model(bad)
    with pytest.raises(FileNotFoundError, match="missing.keras: no such model file"):
        load_model(tmp_path / "missing.keras")


def test_a_model_saved_before_training_loads_without_an_optimizer_warning(tmp_path, recwarn):
    from rnnzoo.utils.saving import load_model, save_model

    for compiled in (True, False):  # a serving copy (never trained), compiled or not
        model = rnnzoo.build_model("many_to_one", vocab_size=10, num_classes=2, units=4, embedding_dim=4,
                                   compile=compiled)
        save_model(model, tmp_path / f"{compiled}.keras")
        load_model(tmp_path / f"{compiled}.keras")
    assert not [w for w in recwarn if "optimizer" in str(w.message)], [str(w.message) for w in recwarn]


@pytest.mark.skipif(keras.backend.backend() == "torch",
                    reason="Keras' torch backend draws unseeded dropout from torch's global generator "
                           "(keras/src/backend/torch/random.py), which EpochSeeds' set_random_seed seeds instead")
def test_resumed_dropout_masks_match_the_uninterrupted_run(tmp_path):
    from rnnzoo.training.loop import reseed
    from rnnzoo.utils.saving import load_model, save_model

    model = rnnzoo.build_model("many_to_one", vocab_size=10, num_classes=2, units=4, embedding_dim=4, dropout=0.5)
    x = np.random.default_rng(4).integers(1, 10, size=(8, 6))
    save_model(model, tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    for m in (model, loaded):
        reseed(m, 12)
    outputs = [keras.ops.convert_to_numpy(m(x, training=True)) for m in (model, loaded)]
    np.testing.assert_array_equal(*outputs)
    reseed(loaded, 13)
    assert not np.allclose(keras.ops.convert_to_numpy(model(x, training=True)),
                           keras.ops.convert_to_numpy(loaded(x, training=True)))


def test_a_damaged_checkpoint_is_named_and_restart_is_offered(tmp_path):
    from rnnzoo.utils.saving import DamagedModelError, load_model

    run, x, y = _one_unfinished_epoch(tmp_path, seed=3)
    with open(run.checkpoint_path, "rb") as f:
        complete = f.read()
    with open(run.checkpoint_path, "wb") as f:
        f.write(complete[: len(complete) // 2])  # cut short, as by a full disk
    with pytest.raises(TrainingError, match=r"cannot resume: .*latest.weights.h5: the checkpoint is damaged.*restart"):
        fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=2, patience=1, verbose=0,
            log=lambda m: None)
    with open(run.model_path, "wb") as f:
        f.write(b"PK")
    with pytest.raises(DamagedModelError, match="model.keras: the file is damaged"):
        load_model(run.model_path)


def test_one_fit_shows_epoch_k_of_n_and_step_totals(tmp_path, capsys):
    """One `fit(epochs=N)`: the bar says `Epoch 2/3` and counts steps against
    a known total, also for batches whose number tf.data cannot tell."""
    x, y = _data(np.random.default_rng(5))
    run = RunFolder.create("demo", _options(tmp_path))

    def unknown_length(epoch):  # filter() hides the cardinality, as bucketing does
        return _dataset(x, y, epoch).filter(lambda *_: True)

    _, state = fit(_model(), unknown_length, _dataset(x, y), run, epochs=3, patience=5, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/3" in out and "Epoch 2/3" in out and "Epoch 3/3" in out and "Epoch 2/2" not in out
    assert "4/4" in out and "Unknown" not in out  # 64 examples in batches of 16
    with open(run.file("history.csv")) as f:
        rows = f.read().splitlines()
    assert rows[0].split(",")[0] == "epoch" and len(rows) == 4
    np.testing.assert_allclose([float(r.split(",")[rows[0].split(",").index("loss")]) for r in rows[1:]],
                               state["history"]["loss"], rtol=1e-5)


def test_resumed_early_stopping_remembers_the_patience_used(tmp_path):
    """Two epochs without improvement before a crash count toward patience
    after it: Keras' EarlyStopping would otherwise start counting again."""
    x, y = _data(np.random.default_rng(6))
    run = RunFolder.create("demo", _options(tmp_path))
    scores = iter([0.9, 0.7, 0.6, 0.5, 0.4])
    args = dict(monitor="val_score", mode="max", verbose=0, patience=3, log=lambda m: None,
                validate=lambda m: {"val_score": next(scores)})
    fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=3, **args)
    state = run.load_state()
    assert state["wait"] == 2
    state["finished"] = False
    run.save_state(state)
    _, state = fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=6, **args)
    assert state["stopped_early"] and state["epoch"] == 4 and state["best_epoch"] == 1
    with open(run.file("history.csv")) as f:
        assert len(f.read().splitlines()) == 5


def test_a_run_begun_with_a_keras_checkpoint_resumes(tmp_path):
    """Runs begun before the backup was Keras' weights file kept
    `checkpoints/last.keras`; they resume from it."""
    from rnnzoo.utils.saving import save_model

    x, y = _data(np.random.default_rng(7))
    run = RunFolder.create("demo", _options(tmp_path))
    old = _model()
    old.fit(_dataset(x, y), epochs=1, verbose=0)
    old.optimizer.learning_rate.assign(0.0)  # so epoch 2 changes nothing
    save_model(old, run.file("checkpoints", "last.keras"))
    save_model(old, run.model_path)
    from rnnzoo.training.loop import new_state

    run.save_state({**new_state(), "epoch": 1, "best": 10.0, "best_epoch": 1, "history": {"loss": [1.0]}})
    messages = []
    model, state = fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=2, patience=3,
                       verbose=0, log=messages.append)
    assert "resuming after epoch 1" in messages[0] and state["epoch"] == 2
    assert not any("the checkpoint is from epoch" in m for m in messages)
    for a, b in zip(model.get_weights(), old.get_weights()):
        np.testing.assert_allclose(a, b)


def test_a_time_limit_cuts_the_epoch_under_way_short_and_keeps_it(tmp_path, capsys):
    x, y = _data(np.random.default_rng(6))
    run = RunFolder.create("demo", _options(tmp_path))
    messages = []
    model, state = fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, epochs=3, patience=5, verbose=1,
                       time_limit=1e-9, log=messages.append)
    assert "1/4" in capsys.readouterr().out  # one step of four, then the epoch ends
    assert state["finished"] and state["epoch"] == 1 and len(state["history"]["loss"]) == 1
    assert messages == ["time limit: stopped after 1e-09 minutes, in epoch 1 after 1 steps"]
    assert os.path.exists(run.model_path) and model is not None
    # The limit says when this command stops, not what is trained: the run's name does not depend on it.
    assert default_run_name(_options(tmp_path, time_limit=5.0)) == default_run_name(_options(tmp_path))


def test_a_backup_newer_than_the_run_state_is_not_resumed_from(tmp_path):
    """Killed after the backup of epoch 2 was written but before `state.json`
    said so, a run resumes after epoch 1 from the epoch-1 backup, which is
    kept until the state names the new one (resuming from the epoch-2
    weights while training epoch 2 again ended a SIGKILL test of a recipe
    with another accuracy; that test now passes for the same draw)."""
    from rnnzoo.training.loop import EPOCH_ATTRIBUTE
    from rnnzoo.utils.saving import weights_attributes

    x, y = _data(np.random.default_rng(0))
    run = RunFolder.create("demo", _options(tmp_path))
    args = dict(epochs=2, patience=5, monitor="val_accuracy", mode="max", verbose=0)
    _, state = fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, **args)
    assert weights_attributes(run.checkpoint_path)[EPOCH_ATTRIBUTE] == 2
    assert weights_attributes(run.previous_checkpoint_path)[EPOCH_ATTRIBUTE] == 1

    def weights_of(path):
        model = _model()
        model.optimizer.build(model.trainable_variables)
        model.load_weights(path)
        return [np.asarray(w) for w in model.weights]

    epoch_one, epoch_two = weights_of(run.previous_checkpoint_path), weights_of(run.checkpoint_path)
    state.update(epoch=1, finished=False, history={k: v[:1] for k, v in state["history"].items()})
    run.save_state(state)  # as if killed between the epoch-2 backup and its state.json

    class StartingWeights(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):  # after every callback's on_train_begin (the restore)
            self.found = getattr(self, "found", None) or [np.asarray(w) for w in self.model.weights]

    starting, messages = StartingWeights(), []
    fit(_model(), lambda e: _dataset(x, y, e), _dataset(x, y), run, log=messages.append, callbacks=[starting],
        **args)
    assert any("resuming after epoch 1 from" in m and "previous.weights.h5" in m for m in messages), messages
    for found, expected in zip(starting.found, epoch_one):
        np.testing.assert_array_equal(found, expected)
    assert any(not np.array_equal(a, b) for a, b in zip(epoch_one, epoch_two))
