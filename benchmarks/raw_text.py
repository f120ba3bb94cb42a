"""Does a sentiment run serve raw text as well as the tokenized text it was
trained on? Scores a finished run (`rnnzoo evaluate`, through its
SavedModel) on the SST-2 test set as distributed (Penn Treebank tokenized,
lowercased) and on raw copies made by standard detokenizers (nltk's
Treebank detokenizer, and sacremoses' Moses detokenizer when installed),
and reports accuracy and the `<unk>` rate of each, plus the `<unk>` rate the
raw text would have under whitespace splitting (what served models did
before punctuation standardization).

    python -m benchmarks.raw_text saved_models/sentiment/RUN --data-root ../shared/data
"""

import argparse
import os
import tempfile

from rnnzoo.data.datasets import dataset_folder
from rnnzoo.data.formats import load_labeled_lines
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.data.tokenizers import tokenizer_from_config
from rnnzoo.tasks.evaluation import evaluate_run_folder
from rnnzoo.tasks.text_classification import unknown_token_rate

# Treebank bracket escapes as SST writes them -> as nltk's detokenizer reads them.
BRACKETS = {"-lrb-": "-LRB-", "-rrb-": "-RRB-", "-lsb-": "-LSB-", "-rsb-": "-RSB-", "-lcb-": "-LCB-",
            "-rcb-": "-RCB-", "\\/": "/", "\\*": "*"}


def detokenizers():
    from nltk.tokenize.treebank import TreebankWordDetokenizer

    treebank = TreebankWordDetokenizer()
    found = {"treebank (nltk)": lambda tokens: treebank.detokenize([BRACKETS.get(t, t) for t in tokens],
                                                                   convert_parentheses=True)}
    try:
        from sacremoses import MosesDetokenizer
    except ImportError:
        print("sacremoses is not installed: only nltk's Treebank detokenizer is measured")
    else:
        moses = MosesDetokenizer(lang="en")
        found["moses (sacremoses)"] = lambda tokens: moses.detokenize([BRACKETS.get(t, t) for t in tokens])
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="a finished sentiment run trained on sst2")
    parser.add_argument("--data-root", default=None, help="folder holding sst2/")
    args = parser.parse_args(argv)
    folder = dataset_folder("sst2", args.data_root)
    if folder is None:
        raise SystemExit(f"sst2 not found under --data-root {args.data_root!r} or $RNNZOO_DATA.")
    test_file = os.path.join(folder, "stsa.binary.test")
    examples = load_labeled_lines(test_file)
    encoder = TextEncoder.load(os.path.join(args.run_dir, "tokens"))
    whitespace = TextEncoder(tokenizer_from_config({**encoder.tokenizer.get_config(), "standardize": None}),
                             encoder.vocabulary)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        copies = {"tokenized (as distributed)": test_file}
        for name, detokenize in detokenizers().items():
            path = os.path.join(scratch, name.split()[0] + ".txt")
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(f"{e.label} {detokenize(e.text.split())}\n" for e in examples)
            copies[name] = path
        for name, path in copies.items():
            _, metrics = evaluate_run_folder(args.run_dir, path, output=os.path.join(scratch, "report.json"))
            texts = [e.text for e in load_labeled_lines(path)]
            rows.append((name, metrics["accuracy"], metrics["unknown_token_rate"],
                         unknown_token_rate(whitespace, texts)))
    print(f"{'SST-2 test text':<28} {'accuracy':>9} {'<unk> rate':>11} {'<unk> if split on spaces':>25}")
    for name, accuracy, unknown, spaces in rows:
        print(f"{name:<28} {accuracy:>9.2%} {unknown:>11.2%} {spaces:>25.2%}")
    base = rows[0][1]
    for name, accuracy, _, _ in rows[1:]:
        print(f"{name}: {100 * (accuracy - base):+.2f} points against the tokenized text")


if __name__ == "__main__":
    main()
