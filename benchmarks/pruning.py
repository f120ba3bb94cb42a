"""Magnitude pruning of a trained text classifier: validation accuracy and
TFLite sizes (raw and gzip-compressed, float32 and dynamic-range int8) at
each target sparsity, against the unpruned model, one run.

    python -m recipes.sentiment --data sst2 --data-root ../shared/data --dropout 0.5 --run sst2
    python -m benchmarks.pruning --run saved_models/sentiment/sst2 --data sst2 --data-root ../shared/data

Each sparsity starts from the trained model and fine-tunes it for `--epochs`
with `rnnzoo.training.pruning.MagnitudePruning` (the target reached at 70%
of the steps, then held).
"""

import argparse
import os
import tempfile

import keras
import numpy as np

import rnnzoo
from rnnzoo.data import load_dataset
from rnnzoo.exporting.run_export import stack
from rnnzoo.tasks.text_classification import TextClassifier
from rnnzoo.training.pruning import MagnitudePruning, sparsity
from rnnzoo.utils.files import gzipped_size


def _sizes(model, inputs):
    """{quantize: (bytes, gzipped bytes)} of float and dynamic-range TFLite."""
    sizes = {}
    with tempfile.TemporaryDirectory() as folder:
        for quantize in (None, "dynamic"):
            path = os.path.join(folder, str(quantize))
            rnnzoo.export(model, path, format="tflite", quantize=quantize, inputs=inputs)
            file = os.path.join(path, "model.tflite")
            sizes[quantize] = (os.path.getsize(file), gzipped_size(file))
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a sentiment run folder (or a saved TextClassifier)")
    parser.add_argument("--data", default="sst2")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--eval-split", default="dev")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.8])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    args = parser.parse_args(argv)
    train = load_dataset(args.data, args.train_split, root=args.data_root)
    evaluation = load_dataset(args.data, args.eval_split, root=args.data_root)
    texts, labels = [e.text for e in train], [e.label for e in train]
    eval_texts, eval_labels = [e.text for e in evaluation], [e.label for e in evaluation]
    base = TextClassifier.from_preset(args.run)
    export_inputs = stack([{"tokens": np.array(row, "int32")} for row in base.token_ids(eval_texts[:8])])
    rows = []
    accuracy = base.evaluate(eval_texts, eval_labels)["accuracy"]
    rows.append(("0 (trained)", accuracy, 0.0, _sizes(base.model, export_inputs)))
    steps = -(-len(texts) // args.batch_size) * args.epochs
    for target in args.sparsities:
        classifier = TextClassifier.from_preset(args.run)
        classifier.model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=classifier.model.loss,
                                 metrics=["accuracy"])
        pruning = MagnitudePruning(target, end_step=int(0.7 * steps), frequency=max(1, steps // 50))
        classifier.fit(texts, labels, epochs=args.epochs, batch_size=args.batch_size, callbacks=[pruning], verbose=0)
        reached = float(np.mean(list(sparsity(classifier.model).values())))
        accuracy = classifier.evaluate(eval_texts, eval_labels)["accuracy"]
        rows.append((f"{target:g}", accuracy, reached, _sizes(classifier.model, export_inputs)))
    print(f"{args.data} {args.eval_split} ({len(eval_texts)} examples); fine-tuning {args.epochs} epoch(s) "
          f"of {len(texts)} examples per sparsity")
    print(f"{'target sparsity':<17}{'reached':>8}{'accuracy':>10}{'delta':>8}{'float KB':>10}{'gzip KB':>9}"
          f"{'int8w KB':>10}{'gzip KB':>9}")
    for name, accuracy, reached, sizes in rows:
        (raw, packed), (raw8, packed8) = sizes[None], sizes["dynamic"]
        print(f"{name:<17}{reached:>8.3f}{accuracy:>10.4f}{accuracy - rows[0][1]:>+8.4f}{raw / 1024:>10.0f}"
              f"{packed / 1024:>9.0f}{raw8 / 1024:>10.0f}{packed8 / 1024:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
