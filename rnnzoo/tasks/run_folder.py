"""`rnnzoo export RUN_DIR` and `rnnzoo predict RUN_DIR TEXT...`: work on a
recipe's run folder (`saved_models/<recipe>/<run>/`) after training."""

import os

import numpy as np

from rnnzoo.data.reading import read_json
from rnnzoo.exporting.text_serving import load_signature
from rnnzoo.training.runs import RunFolder

SAVED_MODEL = "saved_model"


def _require(path, what, hint):
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no {what} here; {hint}")
    return path


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
    model = load_model(path)
    word_encoder = os.path.join(run_dir, "word_encoder.json")
    if word_length is None and os.path.exists(word_encoder):
        word_length = read_json(word_encoder).get("max_word_length")
    name = format + (f"_{quantize}" if quantize else "") + ("_streaming" if streaming else "")
    folder = output or os.path.join(run_dir, "export", name)
    report = export(model, folder, format=format, quantize=quantize, sequence_length=sequence_length,
                    word_length=word_length if "characters" in [t.name for t in model.inputs] else None,
                    streaming=streaming)
    return folder, report


def _input_name(signature):
    """The name of a one-input serving signature's input."""
    (name,) = signature.structured_input_signature[1]
    return name


def predict_run_folder(run_dir, inputs):
    """Run the run's SavedModel on raw inputs, read as its signature takes
    them: texts (`text`), image files (`image`: decoded, converted to the
    model's colour mode and resized to its size) or WAV files (`waveform`:
    mixed down to mono and resampled to the model's rate). Returns one dict
    of NumPy values per input (padding past a sentence's length removed). A
    tagging run reads raw sentences: punctuation and clitics are split off
    first ("isn't it?" is tagged as `is n't it ?`), and `words` says which
    tokens were tagged."""
    import tensorflow as tf

    from rnnzoo.data.tokenizers import split_punctuation

    signature = load_signature(_require(os.path.join(run_dir, SAVED_MODEL), "SavedModel (saved_model/)",
                                        "pass the run folder of a finished recipe run."))
    name = _input_name(signature)
    words = None
    if name == "image":
        from rnnzoo.tasks.captioning import caption_images

        batches = [{"caption": np.array([c.encode("utf-8") for c in caption_images(signature, list(inputs))])}]
    elif name == "waveform":
        from rnnzoo.tasks.speech import read_waveform

        batches = [{k: v[None] for k, v in signature(waveform=tf.constant(read_waveform(path))).items()}
                   for path in inputs]
    elif name == "window":
        from rnnzoo.tasks.forecasting import forecast_files

        batches = forecast_files(signature, run_dir, list(inputs))
    elif name == "prompt":
        batches = [{k: v[None] for k, v in signature(prompt=tf.constant(prompt)).items()} for prompt in inputs]
    elif name == "text" and os.path.exists(os.path.join(run_dir, "tags.txt")):
        # Raw sentences: punctuation and clitics split off as the Treebank does, then tagged word by word.
        split = tf.strings.split(split_punctuation(list(inputs))).to_list()
        words = [[w.decode("utf-8") for w in row] for row in split]
        batches = [signature(text=tf.constant([" ".join(row) for row in words]))]
    elif name == "text":
        batches = [signature(text=tf.constant(list(inputs)))]
    else:
        raise ValueError(f"{run_dir}: the SavedModel takes {name!r}, which predict cannot read.")
    results = []
    for outputs in batches:
        outputs = {k: np.asarray(v) for k, v in outputs.items()}
        for row in range(len(next(iter(outputs.values())))):
            result = {k: v[row] for k, v in outputs.items()}
            if "lengths" in result:
                length = int(result.pop("lengths"))
                result = {k: v[:length] for k, v in result.items()}
            results.append(result)
    for result, row in zip(results, words or ()):
        result["words"] = row
    return results


def format_prediction(text, result):
    """One line: `label (p=0.97)  text`, `word/TAG word/TAG ...`, or
    `output  input` for generated text (translation, caption, transcript)."""
    if "label" in result:
        return f"{result['label'].decode()} (p={float(result['probabilities'].max()):.3f})\t{text}"
    if "forecast" in result:  # a CSV block: the next steps of the series in `text`
        rows = [",".join([str(t)] + [f"{v:.6g}" for v in values])
                for t, values in zip(result["timestamps"], result["forecast"])]
        return "\n".join([f"# forecast after {text}", ",".join(["date", *result["columns"]]), *rows])
    if "continuation" in result:
        return result["text"].decode()
    for key in ("translation", "caption", "transcript"):
        if key in result:
            return f"{result[key].decode()}\t{text}"
    if "tags" in result:
        words = result["words"] if "words" in result else text.split()
        return " ".join(f"{word}/{tag.decode()}" for word, tag in zip(words, result["tags"]))
    return f"{text}\t" + ", ".join(f"{k}={v.tolist()}" for k, v in result.items())
