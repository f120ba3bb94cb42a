"""Padded-token fraction with length bucketing vs padding each batch to its
longest sequence, on SST-2 and UD English-EWT train.

    python -m benchmarks.padding [--root ../shared/data] [--batch-size 32]
"""

import argparse
import os
import time

from rnnzoo import data


def _token_batches(name, root):
    if name == "sst2":
        examples = data.load_dataset("sst2", "train", root=root)
        encoder = data.TextEncoder.adapt([e.text for e in examples], tokenizer="word")
        return data.ragged_dataset(encoder.encode_to_lists(e.text for e in examples),
                                   [int(e.label) for e in examples])
    sentences = data.load_dataset("ud_english_ewt", "train", root=root)
    words = data.Vocabulary.build(s.words for s in sentences)
    tags = data.Vocabulary.build((s.tags for s in sentences), reserved=("<pad>",))
    return data.ragged_dataset([words.lookup(s.words) for s in sentences],
                               [tags.lookup(s.tags) for s in sentences])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_root = os.environ.get("RNNZOO_DATA", os.path.join("..", "shared", "data"))
    parser.add_argument("--root", default=default_root)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    print(f"{'dataset':<16}{'longest-in-batch':>18}{'bucketed':>10}{'batches':>9}{'seconds':>9}")
    for name in ("sst2", "ud_english_ewt"):
        dataset = _token_batches(name, args.root)
        start = time.perf_counter()
        plain = data.padded_fraction(data.batch_dataset(dataset, args.batch_size, boundaries=None,
                                                        shuffle_buffer=20000, seed=0))
        bucketed_batches = data.batch_dataset(dataset, args.batch_size, shuffle_buffer=20000, seed=0)
        bucketed = data.padded_fraction(bucketed_batches)
        count = sum(1 for _ in bucketed_batches)
        print(f"{name:<16}{plain:>18.1%}{bucketed:>10.1%}{count:>9}{time.perf_counter() - start:>9.1f}")


if __name__ == "__main__":
    main()
