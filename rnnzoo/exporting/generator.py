"""Sequence generators (`encoder_decoder`, `one_to_many`) as TFLite: a beam
search is no LiteRT builtin loop, so the model goes out as two builtin-only
files that a device runs in its own loop:

- `encoder/model.tflite`: the encoder input -> the decoder's initial states
  `state_{layer}_{k}` and what attention reads (`memory`, `memory_keys`,
  `memory_mask`);
- `step/model.tflite`: one decoder step: `decoder_tokens` `(1, 1)`, the
  states and the encoder's outputs -> `logits` and the new states.

`greedy_decode_by_steps` is that loop, written out; the export checks it
against `rnnzoo.decoding.decode` on real inputs.

```python
report = export_generator(model, "run/tflite", encoder_inputs, max_length=40)
report["decode_agreement"]   # 1.0: the files decode what Keras decodes
```
"""

import os

import numpy as np

from rnnzoo import decoding
from rnnzoo.data import END_ID, PAD_ID, START_ID, until_end
from rnnzoo.exporting import tflite
from rnnzoo.exporting.exporter import SIGNATURE, export, load_tflite


def greedy_decode_by_steps(encode, step, encoder_input, *, max_length):
    """Greedy decoding of one example as a device runs the two files: call
    `encode(encoder_input)` once and `step(inputs)` per token, each returning
    a dict of arrays (TFLite signature runners, or keras-io's `predict` of
    `model.inference_models()`); returns the ids generated, up to and
    including the end token. Padding is never emitted, as in `decoding`."""
    encoded = encode(encoder_input)
    state = {k: v for k, v in encoded.items() if k.startswith("state_")}
    context = {k: v for k, v in encoded.items() if not k.startswith("state_")}
    token, ids = START_ID, []
    for _ in range(max_length):
        outputs = step({"decoder_tokens": np.array([[token]], "int32"), **state, **context})
        logits = np.array(outputs["logits"][0, -1])
        logits[PAD_ID] = -np.inf
        token = int(np.argmax(logits))
        ids.append(token)
        if token == END_ID:
            break
        state = {k: outputs[k] for k in state}
    return ids


def export_generator(model, folder, encoder_inputs, *, max_length, quantize=None):
    """Write `folder/encoder/` and `folder/step/` (see the module) and greedy
    decode each of `encoder_inputs` (a batch, e.g. padded source ids or
    images) with them against `decoding.decode`. Returns `{encoder, step}`
    reports, the total `size_bytes` and `decode_agreement` (the fraction of
    examples decoded to the same ids). `quantize`: None (float32),
    "dynamic" or "float16", for both files."""
    encoder, step = model.inference_models()
    input_name = encoder.inputs[0].name
    encoder_inputs = np.asarray(encoder_inputs)
    encoded = {k: np.asarray(v) for k, v in encoder(encoder_inputs).items()}
    start = np.full((len(encoder_inputs), 1), START_ID, "int32")
    reports = {
        "encoder": export(encoder, os.path.join(folder, "encoder"), format="tflite", quantize=quantize,
                          inputs={input_name: encoder_inputs}),
        "step": export(step, os.path.join(folder, "step"), format="tflite", quantize=quantize,
                       inputs={**encoded, "decoder_tokens": start}),
    }
    encode_runner, step_runner = [tflite.signature_runner(load_tflite(os.path.join(folder, part)), SIGNATURE)
                                  for part in ("encoder", "step")]
    expected = decoding.decode(model, encoder_inputs, max_length=max_length)
    found = [greedy_decode_by_steps(lambda x: encode_runner({input_name: x}), step_runner, example[None],
                                    max_length=max_length) for example in encoder_inputs]
    agreement = float(np.mean([until_end(a, include_end=True) == b for a, b in zip(expected, found)]))
    return {**reports, "size_bytes": sum(r["size_bytes"] for r in reports.values()),
            "decode_agreement": agreement, "examples": len(found)}
