"""One side of the cross-backend test (tests/utils/test_backends.py), run in a
process of its own under the Keras backend KERAS_BACKEND names:

    python tests/backend_roundtrip.py save FOLDER   # build, save FOLDER/<name>.keras + its inputs and outputs
    python tests/backend_roundtrip.py check FOLDER [FOLDER ...] [--train-and-save OUT]
        # load every FOLDER/<name>.keras, require the saved outputs (within 1e-5);
        # with OUT, take one training step and save the result and its outputs there

Models: a stacked bidirectional LSTM classifier, a bidirectional GRU tagger
with a CRF head, and an LSTM encoder-decoder with attention, on right-padded
token batches (the padding path of each backend's kernels)."""

import os
import sys

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import helpers  # noqa: E402

import rnnzoo  # noqa: E402,F401

MODELS = {
    "classifier": ("many_to_one", dict(cell="lstm", bidirectional=True, num_layers=2)),
    "crf_tagger": ("many_to_many", dict(cell="gru", bidirectional=True, output_layer="crf")),
    "translator": ("encoder_decoder", dict(cell="lstm", attention="luong")),
}


def padded_inputs(model):
    inputs = helpers.make_inputs(model, length=7, batch_size=4)
    named = inputs if isinstance(inputs, dict) else {"": inputs}
    lengths = np.array([7, 5, 2, 6])
    for array in named.values():
        array *= (np.arange(array.shape[1])[None, :] < lengths[:, None]).astype(array.dtype)
    return inputs


def predict(model, inputs):
    return keras.ops.convert_to_numpy(model.predict(inputs, verbose=0))


def save(folder, name, model, inputs):
    model.save(os.path.join(folder, f"{name}.keras"))
    arrays = inputs if isinstance(inputs, dict) else {"inputs": inputs}
    np.savez(os.path.join(folder, f"{name}.npz"), expected=predict(model, inputs), **arrays)


def load_inputs(folder, name):
    with np.load(os.path.join(folder, f"{name}.npz")) as data:
        arrays = {key: data[key] for key in data.files}
    expected = arrays.pop("expected")
    return (arrays.pop("inputs") if "inputs" in arrays else arrays), expected


def main(command, *folders):
    backend = keras.backend.backend()
    if command == "save":
        keras.utils.set_random_seed(0)
        for name, (topology, options) in MODELS.items():
            model = helpers.build_tiny(topology, **options)
            save(folders[0], name, model, padded_inputs(model))
        return
    out = None
    if "--train-and-save" in folders:
        folders, out = folders[:-2], folders[-1]
    for folder in folders:
        for name in MODELS:
            model = keras.saving.load_model(os.path.join(folder, f"{name}.keras"))
            inputs, expected = load_inputs(folder, name)
            got = predict(model, inputs)
            worst = float(np.abs(got - expected).max())
            print(f"{backend}: {name} max |difference| {worst:.2e}")
            if worst > 1e-5:
                raise SystemExit(f"{backend}: {name} loaded from {folder} differs by {worst:.2e}")
            if out:
                model.fit(inputs, helpers.make_targets(model, got), epochs=1, verbose=0)
                save(out, name, model, inputs)


if __name__ == "__main__":
    main(*sys.argv[1:])
