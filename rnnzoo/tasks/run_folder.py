"""`rnnzoo export RUN_DIR` and `rnnzoo predict RUN_DIR TEXT...`: work on a
recipe's run folder (`saved_models/<recipe>/<run>/`) after training."""

import os

import numpy as np

from rnnzoo.data.reading import read_json, read_text
from rnnzoo.exporting.graph_check import check_saved_model
from rnnzoo.exporting.text_serving import load_signature
from rnnzoo.training.runs import RunFolder

SAVED_MODEL = "saved_model"


def _require(path, what, hint):
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no {what} here; {hint}")
    return path


def run_info(run_dir):
    """`rnnzoo info RUN`: lines saying what a finished run is: its recipe,
    model and test scores, the recurrent kernel each layer ran in training
    (and why not a fused one), and its exports with their kernels."""
    run = RunFolder(run_dir)
    if not os.path.isdir(run_dir) or not run.is_run():
        raise FileNotFoundError(f"{run_dir}: not a recipe run folder (no run.json); pass saved_models/<recipe>/<run>.")
    report = read_json(_require(run.file("metrics.json"), "metrics.json",
                                "the run has not finished (rnnzoo info reads its report)."))
    extra = report.get("extra", {})
    scores = ", ".join(f"{k} {v:.4f}" for k, v in report.get("metrics", {}).items() if isinstance(v, float))
    lines = [f"{os.path.abspath(run_dir)}: recipe {run.recipe or '?'}, model {report.get('model', {}).get('class_name')}"
             f", trained on {extra.get('backend', 'tensorflow')}" + (
                 f", evaluated and exported on {extra['evaluation_backend']}" if "evaluation_backend" in extra else ""),
             f"test: {scores}", "recurrent kernels in training:"]
    kernels = extra.get("kernels")
    if kernels is None:
        lines.append("  (not recorded: the run was made before rnnzoo reported kernels)")
    for row in kernels or []:
        why = f" (not fused: {row['why_not_fused']})" if row["why_not_fused"] else ""
        lines.append(f"  {row['layer']} ({row['cell']}): {row['kernel']}{why}")
    exports = ["  saved_model/: the TensorFlow loop traced at export (cuDNN only when exported on a GPU)"] if (
        os.path.isdir(run.file("saved_model"))) else []
    for name, entry in (extra.get("tflite") or {}).items():
        if isinstance(entry, dict) and "error" not in entry:
            checked = f", checked by {entry['interpreter']}" if entry.get("interpreter") else ""
            exports.append(f"  {name}/model.tflite: {entry.get('kernel') or 'no recurrence'}, "
                           f"{entry['size_bytes'] / 1024:,.0f} KB{checked}")
    return lines + ["exports:"] + (exports or ["  (none)"])


def export_run_folder(run_dir, format="tflite", quantize=None, sequence_length=None, word_length=None,
                      streaming=False, output=None):
    """Export the run's `model.keras` (loaded with `safe_mode=True`) with
    `rnnzoo.export`; by default into `RUN_DIR/export/<format>[_<quantize>]`
    (`_streaming` for the one-step model). A tagger's characters per word
    default to its `word_encoder.json`. Returns `(folder, report)`."""
    from rnnzoo.exporting.exporter import export
    from rnnzoo.utils.saving import load_model

    path = _require(RunFolder(run_dir).model_path, "trained model (model.keras)",
                    "pass a run folder of a finished recipe run, e.g. saved_models/sentiment/<run>.")
    from rnnzoo.exporting.signatures import is_nested

    model = load_model(path)
    word_encoder = os.path.join(run_dir, "word_encoder.json")
    if word_length is None and os.path.exists(word_encoder):
        word_length = read_json(word_encoder).get("max_word_length")
    nested = any(is_nested(tensor) for tensor in model.inputs)
    task_config = os.path.join(run_dir, "task.json")
    if nested and os.path.exists(task_config):  # a document classifier: the sentences and words it reads
        options = read_json(task_config).get("config", {})
        word_length = word_length or options.get("max_words")
        sequence_length = sequence_length or (options.get("max_sentences") if format == "tflite" else None)
    name = format + (f"_{quantize}" if quantize else "") + ("_streaming" if streaming else "")
    folder = output or os.path.join(run_dir, "export", name)
    report = export(model, folder, format=format, quantize=quantize, sequence_length=sequence_length,
                    word_length=word_length if nested else None, streaming=streaming)
    return folder, report


def _input_name(signature):
    """The name of a serving signature's main input (a global forecaster
    that embeds series also takes `series_index`, a calendar forecaster
    `time`, which predict derives from the file)."""
    names = [name for name in signature.structured_input_signature[1] if name not in ("series_index", "time")]
    (name,) = names
    return name


# The longest text a prediction reads (characters), by the signature's input: longer inputs are refused
# with one line rather than read in unbounded memory and time (a tagger's memory grows with a sentence's
# words, a language model's time with its prompt's characters).
MAX_INPUT_CHARACTERS = {"text": 100_000, "prompt": 10_000}
MAX_INPUT_FILE_BYTES = 100 * 2 ** 20  # an image, WAV or CSV file given to predict
TOP_SENTENCES = 3  # a document's sentences printed by predict, most attended first
PREDICT_CHUNK = 64  # inputs served at a time: memory stays bounded whatever the number of inputs


def _check_size(name, text, where):
    if name in ("image", "waveform", "window", "document"):  # a file's path
        if os.path.isfile(text) and os.path.getsize(text) > MAX_INPUT_FILE_BYTES:
            raise ValueError(f"{where}: {text} is {os.path.getsize(text):,} bytes; rnnzoo predict reads files of "
                             f"at most {MAX_INPUT_FILE_BYTES:,}.")
        return
    limit = MAX_INPUT_CHARACTERS.get(name)
    if limit is not None and len(text) > limit:
        raise ValueError(f"{where}: {len(text):,} characters; rnnzoo predict reads at most {limit:,} per "
                         f"{'prompt' if name == 'prompt' else 'text'}: split the text into smaller pieces.")


def predict_run_folder(run_dir, inputs, trust=False, where=None):
    """Run the run's SavedModel on raw inputs, read as its signature takes
    them: texts (`text`), image files (`image`: decoded, converted to the
    model's colour mode and resized to its size) or WAV files (`waveform`:
    mixed down to mono and resampled to the model's rate). Yields one dict
    of NumPy values per input, in order (padding past a sentence's length
    removed), serving `PREDICT_CHUNK` inputs at a time, so any number of
    inputs (an iterable, read as it goes) takes bounded memory; a text
    longer than `MAX_INPUT_CHARACTERS` is refused. A tagging run reads raw
    sentences: punctuation and clitics are split off first ("isn't it?" is
    tagged as `is n't it ?`), and `words` says which tokens were tagged (an
    empty sentence gets no tags).

    The SavedModel's graph is checked first (`graph_check`) unless
    `trust`. `where(index)` names an input in errors (default "input N")."""
    folder = _require(os.path.join(run_dir, SAVED_MODEL), "SavedModel (saved_model/)",
                      "pass the run folder of a finished recipe run.")
    check_saved_model(folder, trust=trust)
    signature = load_signature(folder)
    name = _input_name(signature)
    if name not in ("image", "waveform", "window", "prompt", "text"):
        raise ValueError(f"{run_dir}: the SavedModel takes {name!r}, which predict cannot read.")
    tagging = name == "text" and os.path.exists(os.path.join(run_dir, "tags.txt"))
    documents = name == "text" and RunFolder(run_dir).recipe == "document_classification"
    where = where or (lambda index: f"input {index + 1}")
    chunk = []
    for index, item in enumerate(inputs):
        if documents and os.path.isfile(item):  # a document classifier reads a text file given by its path
            _check_size("document", item, where(index))
            item = read_text(item)
        _check_size(name, item, where(index))
        chunk.append(item)
        if len(chunk) == PREDICT_CHUNK:
            yield from _predict_chunk(signature, name, tagging, run_dir, chunk)
            chunk = []
    if chunk:
        yield from _predict_chunk(signature, name, tagging, run_dir, chunk)


def _predict_chunk(signature, name, tagging, run_dir, inputs):
    import tensorflow as tf

    from rnnzoo.data.tokenizers import split_punctuation

    words = None
    if name == "image":
        from rnnzoo.tasks.captioning import caption_images

        batches = [{"caption": np.array([c.encode("utf-8") for c in caption_images(signature, list(inputs))])}]
    elif name == "waveform":
        from rnnzoo.preprocessing.audio import read_waveform

        batches = [{k: v[None] for k, v in signature(waveform=tf.constant(read_waveform(path))).items()}
                   for path in inputs]
    elif name == "window" and RunFolder(run_dir).recipe == "global_forecasting":
        from rnnzoo.tasks import global_forecasting

        batches = global_forecasting.forecast_files(signature, run_dir, list(inputs))
    elif name == "window":
        from rnnzoo.tasks.forecasting import forecast_files

        batches = forecast_files(signature, run_dir, list(inputs))
    elif name == "prompt":
        batches = [{k: v[None] for k, v in signature(prompt=tf.constant(prompt)).items()} for prompt in inputs]
    elif tagging:
        # Raw sentences: punctuation and clitics split off as the Treebank does, then tagged word by word;
        # a sentence with no words gets no tags (the graph is not asked about it).
        split = tf.strings.split(split_punctuation(list(inputs))).to_list()
        words = [[w.decode("utf-8") for w in row] for row in split]
        sentences = [" ".join(row) for row in words if row]
        batches = [signature(text=tf.constant(sentences))] if sentences else []
    else:
        batches = [signature(text=tf.constant(list(inputs)))]
    results = []
    for outputs in batches:
        outputs = {k: np.asarray(v) for k, v in outputs.items()}
        for row in range(len(next(iter(outputs.values())))):
            result = {k: v[row] for k, v in outputs.items()}
            if "lengths" in result:
                length = int(result.pop("lengths"))
                result = {k: v[:length] for k, v in result.items()}
            results.append(result)
    if words is not None:
        found = iter(results)
        results = [{**next(found), "words": row} if row else {"tags": np.array([], object), "words": []}
                   for row in words]
    return results


def format_prediction(text, result):
    """One line: `label (p=0.97)  text` (a document: then its most
    attended sentences with their weights, one per line), `word/TAG
    word/TAG ...`, or `output  input` for generated text (translation,
    caption, transcript)."""
    if "label" in result:
        line = f"{result['label'].decode()} (p={float(result['probabilities'].max()):.3f})\t{text}"
        if "sentence_attention" not in result:
            return line
        top = np.argsort(-result["sentence_attention"], kind="stable")[:TOP_SENTENCES]
        return "\n".join([line] + [f"  {result['sentence_attention'][i]:.3f}  {result['sentences'][i].decode()}"
                                   for i in top if result["sentences"][i]])
    if "forecast" in result:  # a CSV block: the next steps of the series in `text`
        rows = [",".join([str(t)] + [f"{v:.6g}" for v in values])
                for t, values in zip(result["timestamps"], result["forecast"])]
        return "\n".join([f"# forecast after {text}", ",".join(["date", *result["columns"]]), *rows])
    if "panel_forecast" in result:  # a CSV block: each series' next steps in the panel file `text`
        bounds = ["lower", "upper"] if "lower" in result else []
        rows = [",".join([str(series), str(step + 1)] + [f"{result[key][k][step]:.6g}" for key in ["panel_forecast",
                                                                                               *bounds]])
                for k, series in enumerate(result["series_ids"]) for step in range(result["panel_forecast"].shape[1])]
        return "\n".join([f"# forecast after {text}", ",".join(["series_id", "step", "forecast", *bounds]), *rows])
    if "continuation" in result:  # the prompt as the model read it, then the sample (an empty prompt: the sample)
        return (result["text"] if text.strip() else result["continuation"]).decode()
    for key in ("translation", "caption", "transcript"):
        if key in result:
            return f"{result[key].decode()}\t{text}"
    if "tags" in result:
        words = result["words"] if "words" in result else text.split()
        return " ".join(f"{word}/{tag.decode()}" for word, tag in zip(words, result["tags"]))
    return f"{text}\t" + ", ".join(f"{k}={v.tolist()}" for k, v in result.items())
