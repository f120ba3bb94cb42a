"""Steps every recipe takes, in order: `start` (seed, data, run folder),
`compile_model`, `train` (the resumable epoch loop), and `finish`
(`metrics.json`, training curves, a printed summary). The recipe itself only
says what is task-specific: how text becomes ids, the model, the metric."""

import atexit
import csv
import dataclasses
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import keras

from rnnzoo.cells.kernels import kernel_report
from rnnzoo.data.batching import batch_dataset, bucket_boundaries
from rnnzoo.data.sources import load_splits
from rnnzoo.exporting.model_card import write_model_card
from rnnzoo.exporting.generator import export_generator
from rnnzoo.exporting.run_export import SAME_ACCURACY, check_quantizations, each_variant, export_tflite_variants
from rnnzoo.metrics import plot_training_curves, write_report
from rnnzoo.topologies import build_model
from rnnzoo.training.distribution import get_distribution
from rnnzoo.training.loop import TrainingError, fit
from rnnzoo.training.runs import RunFolder, unlock_run_folder
from rnnzoo.utils.backends import missing_backend_package
from rnnzoo.utils.examples import first_examples

SMOKE_STEPS = 2
SMOKE_EXAMPLES = 64
EXPORT_CHECKED = 500  # validation examples scored on each TFLite file (16 with --smoke: a TFLite WHILE loop is slow)
SMOKE_EXPORT_CHECKED = 16


# What a user's input can cause: a bad option, file or dataset (ValueError and
# DataFormatError), a missing file, a full or read-only disk or a failed
# download (OSError), a CSV field over the csv module's limit (csv.Error), a
# damaged checkpoint or a loss gone non-finite (TrainingError), and
# TensorFlow's errors for the same causes (`is_user_error`). Anything else is a bug.
USER_ERRORS = (ValueError, OSError, csv.Error, TrainingError)
# TensorFlow's file errors (its ops write SavedModels) that mean the disk, not our code.
_DISK_TROUBLE = ("No space left on device", "Read-only file system", "Disk quota exceeded", "Permission denied")


def config_options(config):
    """The run's configuration (an `rnnzoo.configs` dataclass) as a plain
    dict: run folders, reports and model cards store it."""
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"expected a recipe configuration (rnnzoo.configs), got {type(config).__name__}.")
    return dataclasses.asdict(config)


def is_user_error(error):
    """Whether `error` is one a user's input or machine caused (see
    `USER_ERRORS`), to be told in one line, rather than a bug."""
    if isinstance(error, USER_ERRORS):
        return True
    tf = sys.modules.get("tensorflow")  # never imported just to ask
    return tf is not None and isinstance(error, tf.errors.OpError) and (
        isinstance(error, (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError))
        or any(text in str(error) for text in _DISK_TROUBLE))


def error_line(error):
    """An error as one line: TensorFlow's op errors lose their
    `{{function_node ...}}` prefix and their graph context."""
    text = getattr(error, "message", None) or str(error)
    text = re.sub(r"^\{\{[^}]*\}\}\s*", "", text.strip())
    return " ".join(text.splitlines()[0].split()) if text else type(error).__name__


class CommandError(SystemExit):
    """A user's error, already printed as one line: the process exits with
    status 2. `str()` is the line (for callers and tests)."""

    def __init__(self, message):
        super().__init__(2)
        self.message = message

    def __str__(self):
        return self.message


def fail(message):
    """Print `message` as the one line of a user's error and exit with status 2."""
    print(message, file=sys.stderr)
    raise CommandError(message)


class HandedOver(Exception):
    """This process trained the run on JAX or torch; TensorFlow evaluated and
    exported it in a process of its own (see `train`). `headline`: the test
    scores it wrote in `metrics.json`."""

    def __init__(self, headline):
        super().__init__("the run was evaluated and exported by TensorFlow in another process")
        self.headline = headline


def finished(steps, config):
    """`steps(config)` (a recipe's steps for one run), or the headline of the
    run TensorFlow finished for them after training here (`HandedOver`)."""
    try:
        return steps(config)
    except HandedOver as done:
        return done.headline


def command(main, argv=None):
    """Run a recipe's `main(argv)` as a command: a user's error prints one
    line, `error: ...`, and exits with status 2 (`--debug` shows the
    traceback instead); Ctrl-C says how to go on."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return finished(main, argv)
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume after the last finished epoch "
              "(--restart starts over).", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as error:  # noqa: BLE001  (a user's error becomes one line; a bug keeps its traceback)
        if "--debug" in argv or not is_user_error(error):
            raise
        fail(f"error: {error_line(error)} (--debug shows the traceback)")


def start(recipe, config, *, builtin, load_path, names=(), splits=None, unit="examples", export="model",
          **data_options):
    """Seed everything (and turn on TensorFlow op determinism unless
    `--no-deterministic`), read the splits (unless the recipe gives
    `splits`) and open the run folder; returns `(splits, run)`. With
    `--smoke`, validation and test keep 64 examples. `export`: what the
    recipe exports as TFLite ("model", "generator" or "streaming"), whose
    `--export-quantize` variants are checked before any work.

    `--backend` naming another backend than this process's runs the same
    command there instead (`HandedOver` then ends this process's steps).
    The `--distribute` set-up comes first (it must precede any TensorFlow
    op); a worker that is not the chief of its cluster writes its run
    folder to a scratch folder that is removed at exit."""
    check_quantizations(config.export_quantize, export, recipe)
    if config.backend not in (None, keras.backend.backend()):  # `--backend`: the same command on that backend
        _run_elsewhere(recipe, config, config.backend)
        raise HandedOver(_headline(RunFolder.of(recipe, config_options(config))))
    setup = distribution(config)
    if setup.name != "none":
        print(f"distribution: {setup.name}, {setup.num_replicas} replicas" + ("" if setup.is_chief else
              " (not the chief: this worker's files go to a scratch folder)"))
    options = config_options(config)
    if not setup.is_chief:
        options["output"] = tempfile.mkdtemp(prefix="rnnzoo-worker-")
        atexit.register(shutil.rmtree, options["output"], ignore_errors=True)
    keras.utils.set_random_seed(config.seed)
    if config.deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    if load_path is not None and config.encoding != "utf-8":
        load_path = functools.partial(load_path, encoding=config.encoding)
    splits = splits or load_splits(config.data, builtin=builtin, load_path=load_path, names=names,
                         root=config.data_root, download=config.download, seed=config.seed, **data_options)
    if config.max_examples:
        splits["train"] = splits["train"][: config.max_examples]
    if config.smoke:
        splits = {k: v if k == "train" else v[:SMOKE_EXAMPLES] for k, v in splits.items()}
    run = RunFolder.create(recipe, options)
    print(f"run folder: {run.path}")
    print(f"{unit}: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
    return splits, run


def distribution(config):
    """The process's `training.distribution.Distribution` for `--distribute`:
    build and compile the model in its `scope()`."""
    return get_distribution(config.distribute, config.cpu_devices)


def _run_elsewhere(recipe, config, backend):
    """Run the recipe with `config` in a process of its own on Keras
    `backend` (same working directory, output shown as it comes); returns
    nothing, or exits with its status if it failed (it has said why)."""
    missing = missing_backend_package({"KERAS_BACKEND": backend})
    if missing:
        raise ValueError(f"--backend {backend}: {missing}")
    command = [sys.executable, "-m", f"recipes.{recipe}", *config.command_line()]
    sys.stdout.flush()
    status = subprocess.run(command, env={**os.environ, "KERAS_BACKEND": backend}).returncode
    if status < 0:  # killed by a signal: say which (a crash there, or the machine's out-of-memory killer)
        print(f"error: the recipe's process on {backend} was killed by {signal.Signals(-status).name}",
              file=sys.stderr)
        raise SystemExit(128 - status)
    if status:
        raise SystemExit(status)


def _headline(run):
    return run.read_json("metrics.json")["metrics"]


def _hand_over(run, config):
    """After training on JAX or torch: TensorFlow evaluates and exports the
    finished run (SavedModel and TFLite trace TensorFlow graphs) by running
    the same command on it, which finds the training finished; the run
    folder is then what a TensorFlow run leaves. Raises `HandedOver`."""
    print(f"trained on {keras.backend.backend()}; TensorFlow evaluates and exports the run in a process of its own "
          "(SavedModel and TFLite are TensorFlow graphs)")
    unlock_run_folder(run.path)  # the other process takes the lock
    same_run = dataclasses.replace(config, backend="tensorflow", restart=False, distribute="none", cpu_devices=None,
                                   run=os.path.basename(run.path), output=os.path.dirname(os.path.dirname(run.path)))
    _run_elsewhere(run.recipe, same_run, "tensorflow")
    raise HandedOver(_headline(run))


def compile_model(model, config, optimizer=None, **kwargs):
    """The model's own loss and metrics, and `optimizer` (default: Adam with
    the run's learning rate and gradient clipping)."""
    model.compile(optimizer=optimizer or keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm),
                  **kwargs)
    return model


def pretrained_language_model(config):
    """`(language_model, config)`: the word-level `LanguageModel` of
    `--init-from` (a run folder or preset) and the config with its
    architecture (cell, units, layers, embedding size, forward only), so the
    run's name, config and model card say what was built; or `(None,
    config)`."""
    if not config.init_from:
        return None, config
    from rnnzoo.tasks.language_model import load_language_model

    language_model = load_language_model(config.init_from, "--init-from", "word", "a classifier reads words "
                                         "(train the language model with --level word).")
    options = language_model.encoder_options()  # the command line's --cell-option (weight_drop=0) wins
    options["cell_options"] = {**(options["cell_options"] or {}), **(config.cell_options or {})} or None
    return language_model, dataclasses.replace(config, **options)


def classifier_model(topology, vocab_size, num_classes, config, pretrained, train_batches, vectors=None,
                     **options):
    """A text classifier of `topology`, compiled: built from the config,
    started from `pretrained`'s layers (`--init-from`: the `LanguageModel`
    and config of `pretrained_language_model`; ULMFiT) or with `vectors`
    (`--embeddings`) as its embedding. Returns the model and its training callbacks
    (`fine_tuning`)."""
    if vectors is not None and pretrained is not None:
        raise ValueError("--embeddings and --init-from both set the embedding: choose one.")
    with distribution(config).scope():
        model = build_model(topology, vocab_size=vocab_size, num_classes=num_classes, **config.model_options(**options))
        if vectors is not None:
            model.get_layer("embedding").embeddings.assign(vectors)
        if pretrained is not None:
            print(f"from the language model {config.init_from}: {', '.join(pretrained.transfer_to(model))}")
        optimizer, callbacks = fine_tuning(model, config, steps_per_epoch(train_batches(0), config))
        compile_model(model, config, optimizer)
    return model, callbacks


def fine_tuning(model, config, steps_per_epoch):
    """The optimizer and callbacks of `FineTuningConfig` (ULMFiT, see
    `rnnzoo.training.transfer`): with `--init-from`, Adam with a learning
    rate per layer group (`--layer-decay`) and gradual unfreezing; the
    slanted triangular schedule over every step with `--schedule` (auto:
    with `--init-from`)."""
    from rnnzoo.training import transfer

    slanted = config.schedule == "slanted_triangular" or (config.schedule == "auto" and config.init_from)
    if slanted and config.lr_decay < 1.0:
        raise ValueError("--lr-decay lowers the learning rate on plateaus; the slanted triangular schedule sets it "
                         "every step: drop one of them.")
    rate = (transfer.SlantedTriangular(config.learning_rate, config.epochs * steps_per_epoch) if slanted
            else config.learning_rate)
    if not config.init_from:
        return keras.optimizers.Adam(rate, clipnorm=config.clipnorm), []
    groups = transfer.layer_groups(model)
    optimizer = transfer.DiscriminativeAdam(rate, layer_groups=groups, decay=config.layer_decay,
                                            unfrozen=1 if config.gradual_unfreezing else None, clipnorm=config.clipnorm)
    return optimizer, [transfer.GradualUnfreezing()] if config.gradual_unfreezing else []


def epoch_batches(dataset, config, lengths):
    """`epoch -> batches`: shuffled with `(seed, epoch)` and bucketed by
    length, so each epoch's order is fixed by the seed (a resumed or a
    distributed run sees the same order)."""
    boundaries = bucket_boundaries(lengths)
    count = len(lengths)

    def batches(epoch):
        return batch_dataset(dataset, config.batch_size, boundaries=boundaries, shuffle_buffer=count,
                             seed=config.seed * 1000 + epoch, reshuffle=False)

    return batches


def steps_per_epoch(batches, config):
    """Training steps in an epoch of `batches` (two with --smoke)."""
    return SMOKE_STEPS if config.smoke else sum(1 for _ in batches)


def ordered_batches(dataset, config):
    """Batches in example order (for prediction and validation)."""
    return batch_dataset(dataset, config.batch_size, boundaries=None)


def train(model, train_batches, validation_batches, run, config, **kwargs):
    """`loop.fit` with the run's options (two steps per epoch with --smoke).
    On JAX or torch, the finished run is then handed to TensorFlow, which
    evaluates and exports it (`HandedOver` ends this process's steps)."""
    steps = SMOKE_STEPS if config.smoke else None
    trained = fit(model, train_batches, validation_batches, run, epochs=config.epochs, patience=config.patience,
                  seed=config.seed, steps_per_epoch=steps, validation_steps=steps, verbose=config.verbose,
                  distribution=distribution(config), lr_decay=config.lr_decay,
                  time_limit=config.time_limit, **kwargs)
    if keras.backend.backend() != "tensorflow":
        _hand_over(run, config)
    return trained


def export_saved_model(run, config, task, examples):
    """`saved_model/`: the task's SavedModel serving raw input, checked
    against the task's own `predict` on raw `examples` (16 with --smoke; see
    `rnnzoo.exporting.task_export`); prints the check and returns it."""
    check = task.export(run.file("saved_model"),
                        first_examples(examples, SMOKE_EXPORT_CHECKED) if config.smoke else examples)
    found = [f"max |diff| {check['max_abs_diff']:.2e}"] if "max_abs_diff" in check else []
    found += [f"the same answer for {check[key]:.1%}" for key in ("agreement", "sentence_agreement")
              if check.get(key) is not None]
    print(f"SavedModel ({task.serves}): {run.file('saved_model')}; against the Keras model on {check['examples']} "
          f"test examples: {', '.join(found)}")
    return check


def export_tflite(run, config, model, examples, metric, **options):
    """Float and `--export-quantize` TFLite files in the run folder, each
    scored with `metric` on (up to 500) validation `examples`; int8 is
    calibrated on `calibration_examples` (training examples). See
    `rnnzoo.exporting.run_export.export_tflite_variants`."""
    summary = export_tflite_variants(run.path, model, examples, metric, quantizations=tuple(config.export_quantize),
                                     max_examples=SMOKE_EXPORT_CHECKED if config.smoke else EXPORT_CHECKED, **options)
    _print_failed(summary)
    for name, entry in summary.items():
        if isinstance(entry, dict) and "error" not in entry:
            delta = entry["metric_delta"] if abs(entry["metric_delta"]) >= 5e-5 else 0.0  # never "-0.0000"
            form = f" ({entry['int8_form']})" if entry.get("int8_form") else ""
            print(f"TFLite {name}{form}: {entry['size_bytes'] / 1024:,.0f} KB, "
                  f"max |diff| {entry['parity_max_abs_diff']:.2e}, "
                  f"validation {entry['metric']:.4f} ({delta:+.4f} vs Keras on {summary['examples']} examples), "
                  f"{entry['ms_per_example']:.2f} ms per example here")
    if summary.get("fastest"):
        print(f"TFLite on this machine, as accurate as Keras (within {SAME_ACCURACY}): fastest {summary['fastest']}, "
              f"smallest {summary['smallest']}")
    return summary


def _variants(run, config, write):
    """`each_variant` of the run's `--export-quantize`, failures printed."""
    summary = each_variant(run.path, config.export_quantize, write)
    _print_failed(summary)
    return summary


def _print_failed(summary):
    for name, entry in summary.items():
        if isinstance(entry, dict) and "error" in entry:
            print(f"warning: TFLite {name} was not written: {entry['error']}", file=sys.stderr)


def export_generator_tflite(run, config, model, encoder_inputs, *, max_length):
    """`tflite/encoder/` and `tflite/step/` of a sequence generator (and
    `tflite_<quantize>/...` per `--export-quantize`), each checked by greedy
    decoding `encoder_inputs` with them (see `rnnzoo.exporting.generator`)."""

    def write(quantize, folder):
        report = export_generator(model, folder, encoder_inputs, max_length=max_length, quantize=quantize)
        entry = {"quantize": quantize, "size_bytes": report["size_bytes"], "examples": report["examples"],
                 "decode_agreement": report["decode_agreement"],
                 "parity_max_abs_diff": max(report[part]["parity"]["max_abs_diff"] for part in ("encoder", "step")),
                 "inputs": {part: report[part]["inputs"] for part in ("encoder", "step")},
                 "non_builtin_ops": report["encoder"]["non_builtin_ops"] + report["step"]["non_builtin_ops"]}
        print(f"TFLite encoder + one-step decoder ({quantize or 'float32'}): {entry['size_bytes'] / 1024:,.0f} KB, "
              f"same greedy output as Keras for {entry['decode_agreement']:.0%} of {entry['examples']} test examples")
        return entry

    return _variants(run, config, write)


def export_streaming_tflite(run, config, model):
    """`tflite/` (and `tflite_<quantize>/` per `--export-quantize`): the
    one-step model of `model` (tokens `(1, 1)` and the states in; logits and
    the new states out), checked by stepping whole sequences against the
    full model. A device carries the states from one call to the next."""
    from rnnzoo.exporting import export

    def write(quantize, folder):
        report = export(model, folder, format="tflite", streaming=True, quantize=quantize)
        entry = {"quantize": quantize, "size_bytes": report["size_bytes"],
                 "parity_max_abs_diff": report["parity"]["max_abs_diff"],
                 "stream_max_abs_diff": report["stream_parity"]["max_abs_diff"], "inputs": report["inputs"],
                 "non_builtin_ops": report["non_builtin_ops"]}
        print(f"TFLite one step, states in and out ({quantize or 'float32'}): {entry['size_bytes'] / 1024:,.0f} KB, "
              f"stepped through sequences: max |diff| {entry['stream_max_abs_diff']:.2e}")
        return entry

    return _variants(run, config, write)


def save_metrics(run, config, model, metrics, state, *, dataset, num_examples, extra=None):
    """Write `metrics.json` (test scores, training summary, versions) as soon
    as the test scores exist: before the exports, so an export that fails
    never loses them. `finish` writes it again with the exports' reports."""
    here = keras.backend.backend()
    trained = state.get("trained_on") or {"backend": here, "kernels": kernel_report(model)}  # (older runs)
    evaluated = {} if trained["backend"] == here else {"evaluation_backend": here}
    extra = {"epochs_trained": state["epoch"], "best_epoch": state["best_epoch"],
             "best_validation": state["best"], "stopped_early": state["stopped_early"],
             "kernels": trained["kernels"], "backend": trained["backend"], **evaluated, **(extra or {})}
    return write_report(run.file("metrics.json"), metrics, dataset=dataset, split="test",
                        num_examples=num_examples, model=model, config=config_options(config),
                        training_time=state["seconds"], extra=extra)


def finish(run, config, model, metrics, state, *, dataset, num_examples, curve_metric=None, extra=None, card=None,
           unit="examples", task=None):
    """Write `metrics.json` (with the exports' reports), the training curves,
    the model card (`README.md`, from the `card` fields; see
    `exporting.model_card`) and the `task`'s preset files (so the run folder
    is a preset: `rnnzoo.load(run folder)`); print the headline."""
    if task is not None:
        task.save_preset_files(run.path)
    report = save_metrics(run, config, model, metrics, state, dataset=dataset, num_examples=num_examples,
                          extra=extra)
    if state["history"]:
        plot_training_curves(state["history"], run.file("training_curves.png"), metric=curve_metric)
    if card is not None:
        write_model_card(run.path, dataset=dataset, metrics=metrics, config=config_options(config),
                         kernels=report["extra"]["kernels"], backend=report["extra"]["backend"], **card)
    headline = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
    print(f"test ({num_examples} {unit}): {headline}")
    print(f"saved in {os.path.abspath(run.path)}")
    return report
