"""The model card (`README.md`) of a recipe run folder: what was trained on
what, how well it does, what each exported file is, and how to load it."""

import os

from rnnzoo.exporting.fused_lstm import FUSED_OP
from rnnzoo.exporting.run_export import SAME_ACCURACY
from rnnzoo.utils.files import write_text


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _number(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return value


def _size(size):
    return f"{size / 1024:,.0f} KB"


# How each kind of SavedModel input is fed: (the card's name for it, the
# signature's argument, what follows it on the line, the predict argument).
SERVING_INPUTS = {
    "text": ("text in", "text=tf.constant([{example!r}])", "", "{example!r}"),
    "image": ("image in", "image=tf.constant(pixels)", "  # float32 (batch, height, width, channels) in [0, 1]",
              "image.png"),
    "prompt": ("prompt in", "prompt=tf.constant({example!r})", "", "{example!r}"),
    "waveform": ("waveform in", "waveform=tf.constant(samples)", "  # float32 samples of one clip at 8 kHz",
                 "clip.wav"),
    "window": ("window in", "window=tf.constant(rows)", "  # float32 (batch, lookback, columns), the series' units",
               "series.csv"),
    "calendar_window": ("window and time in", "window=tf.constant(rows), time=tf.constant(hours)",
                        "  # rows: float32 (batch, lookback, columns) in the series' units; hours: float32 (batch, 1), "
                        "each window's last row in hours since 1970-01-01 00:00", "series.csv"),
}


def model_card(*, title, description, dataset, split_sizes, metrics, config, serving_check, metric_name,
               text_example, tflite=None, tflite_inputs=None, input_kind="text", tflite_generator=None, kernels=None,
               backend=None):
    """The card's Markdown.

    Args:
        metrics: headline test metrics (numbers only are listed).
        config: the run's options.
        serving_check: the text SavedModel's check against Keras
            (`max_abs_diff`, or `agreement` of generated text).
        tflite: `export_tflite_variants`' summary (None: no TFLite files).
        metric_name: the validation metric scored on each TFLite file.
        tflite_inputs: how to make the TFLite inputs from text (Markdown).
        text_example: an input for the usage snippets (text inputs).
        input_kind: what the SavedModel takes: "text", "prompt", "image",
            "waveform", "window" or "calendar_window" (a window and its time).
        tflite_generator: `tasks.recipe.export_generator_tflite`'s summary
            (an encoder and a one-step decoder per variant).
        kernels, backend: `cells.kernels.kernel_report` of the trained
            model and the backend it trained on (a "Recurrent kernels"
            section, with each TFLite file's kernel).
    """
    if input_kind not in SERVING_INPUTS:
        raise ValueError(f"input_kind must be one of {sorted(SERVING_INPUTS)}, got {input_kind!r}.")
    serving_name, serving_call, serving_comment, predict_argument = (
        part.format(example=text_example) for part in SERVING_INPUTS[input_kind])
    rows = [(k, _number(v)) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if "max_abs_diff" in serving_check:
        parity = f"{serving_check['max_abs_diff']:.2g} on {serving_check['examples']} test examples"
    else:
        parity = f"same text for {serving_check['agreement']:.1%} of {serving_check['examples']} test examples"
    exports = [(f"SavedModel (`saved_model/`, {serving_name})", "-", parity, "-", "-")]
    tflite = tflite or {}
    for name, entry in tflite.items():
        if not isinstance(entry, dict):
            continue
        kind = entry["quantize"] or "float32"
        kind += f", {entry['int8_form']}" if entry.get("int8_form") else ""
        if "error" in entry:
            exports.append((f"TFLite `{name}/` ({kind}): not written", "-", entry["error"], "-", "-"))
            continue
        exports.append((f"TFLite `{name}/model.tflite` ({kind})", _size(entry["size_bytes"]),
                        f"{entry['parity_max_abs_diff']:.2g}", f"{entry['metric']:.4f}",
                        f"{entry['metric_delta']:+.4f}"))
    for name, entry in (tflite_generator or {}).items():
        kind = entry["quantize"] or "float32"
        if "error" in entry:
            exports.append((f"TFLite `{name}/` ({kind}): not written", "-", entry["error"], "-", "-"))
            continue
        exports.append((f"TFLite `{name}/encoder/model.tflite` + `{name}/step/model.tflite` ({kind})",
                        _size(entry["size_bytes"]), f"{entry['parity_max_abs_diff']:.2g}",
                        f"greedy output as Keras: {entry['decode_agreement']:.0%} of {entry['examples']}", "-"))
    first = next((entry for entry in tflite.values() if isinstance(entry, dict) and "error" not in entry), None)
    tflite_check = tflite_use = ""
    if first is not None:
        inputs = ", ".join(f"`{k}` {v}" for k, v in first["inputs"].items())
        checked_by = f" by {first['interpreter']}" if first.get("interpreter") else ""
        tflite_check = f""" The TFLite files were also scored on {tflite['examples']} validation examples{checked_by}:
the Keras model scores {metric_name} {tflite['keras_metric']:.4f} on them."""
        ops = first.get("ops", [])
        fused = FUSED_OP in ops
        unsupported = first.get("micro_unsupported_ops")
        micro = ("" if unsupported is None else "all in TensorFlow Lite Micro's op resolver" if not unsupported
                 else f"not in TensorFlow Lite Micro's op resolver: {', '.join(unsupported)}")
        timed = [f"`{name}/` {entry['ms_per_example']:.2f} ms" for name, entry in tflite.items()
                 if isinstance(entry, dict) and "error" not in entry and "ms_per_example" in entry]
        if timed:
            tflite_check += f"""

Time per example on the machine that exported them (batch 1, median while scoring): {', '.join(timed)}."""
            if tflite.get("fastest"):
                tflite_check += (f" As accurate as the Keras model (within {SAME_ACCURACY}), the fastest there is "
                                 f"`{tflite['fastest']}/` and the smallest `{tflite['smallest']}/`.")
        tflite_check += f"""

TFLite ops of `tflite/model.tflite`: {', '.join(ops) or '-'}{f' ({micro})' if micro else ''}."""
        reset = ("\ninterpreter.reset_all_variables()  # before the next input: the fused LSTM keeps its states"
                 if fused else "")
        tflite_use = f"""
TFLite (LiteRT; builtin ops only, batch 1; inputs {inputs}):

```python
from ai_edge_litert.interpreter import Interpreter  # or tf.lite.Interpreter
interpreter = Interpreter(model_path="{{RUN}}/tflite/model.tflite")
runner = interpreter.get_signature_runner()
outputs = runner(**inputs)  # inputs: a dict of arrays, as below{reset}
```

{tflite_inputs}
"""
    return f"""# {title}

{description}

## Data

Dataset `{dataset}`: {", ".join(f"{k} {v}" for k, v in split_sizes.items())} examples.

## Test metrics

{_table(("metric", "value"), rows)}

## Exported files

Each export was run on real examples and compared with the Keras model (max abs difference of the
outputs).{tflite_check}

{_table(("file", "size", "max abs diff vs Keras", f"validation {metric_name}", "delta vs Keras"), exports)}

{_kernel_section(kernels, backend, tflite)}## Use it

SavedModel, {serving_name} (needs TensorFlow and tensorflow-text, not rnnzoo):

```python
import tensorflow as tf
import tensorflow_text  # registers the tokenizer ops
serve = tf.saved_model.load("{{RUN}}/saved_model").signatures["serving_default"]
print(serve({serving_call})){serving_comment}
```

From the command line: `rnnzoo predict {{RUN}} {predict_argument}`.
{tflite_use}
ONNX (the network, LSTM / GRU as ONNX ops, any batch and length; it takes what the TFLite files take,
the preprocessing stays outside the graph): `KERAS_BACKEND=torch rnnzoo export {{RUN}} --format onnx` writes
`{{RUN}}/export/onnx/model.onnx`, checked with ONNX Runtime against the Keras model.

Keras (for fine-tuning): `import rnnzoo, keras; keras.saving.load_model("{{RUN}}/model.keras")`.

## Configuration

{_table(("option", "value"), sorted((k, v) for k, v in config.items()))}
"""


def _kernel_section(kernels, backend, tflite):
    """The card's "Recurrent kernels" section ('' without a report)."""
    if not kernels:
        return ""
    rows = [(f"`{row['layer']}` ({row['cell']})", f"`{row['kernel']}`", row["why_not_fused"] or "-")
            for row in kernels]
    files = [f"`{name}/`: `{entry['kernel']}`" for name, entry in (tflite or {}).items()
             if isinstance(entry, dict) and entry.get("kernel")]
    exported = f"\n\nIn the TFLite files: {', '.join(files)}." if files else ""
    if backend not in (None, "tensorflow"):  # recipes hand a finished jax / torch run to TensorFlow
        exported += "\n\nThe test scores and the exports were computed by TensorFlow, from the trained `model.keras`."
    return f"""## Recurrent kernels

What each recurrent layer ran in training (backend `{backend}`; `rnnzoo info RUN` lists it too):

{_table(("layer", "kernel", "why not fused"), rows)}{exported}

"""


def write_model_card(folder, **fields):
    """Write `folder/README.md` atomically; returns its path."""
    path = os.path.join(folder, "README.md")
    text = model_card(**fields).replace("{RUN}", os.fspath(folder))
    write_text(path, text)
    return path
