"""Does reading right context help a tagger? Trains the tagging recipe twice
on the same data, budget and seed, bidirectional and forward-only, and
prints both test accuracies side by side. On the built-in POS data (whose
tags need the next word) the bidirectional tagger should be far ahead; on
UD English-EWT the gap is the published one (about 1-2 points).

    python -m benchmarks.bidirectional_tagging                     # built-in data, about 1 minute
    python -m benchmarks.bidirectional_tagging --data ud_english_ewt --data-root ../shared/data --epochs 5

Any other option is the tagging recipe's (`python -m recipes.tagging --help`).
"""

import sys
import tempfile

from recipes import tagging

DEFAULTS = ["--epochs", "3", "--max-examples", "1500", "--char-dim", "0", "--units", "32", "--verbose", "0",
            "--batch-size", "16", "--export-quantize"]


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="rnnzoo-bidirectional-") as output:
        common = DEFAULTS + argv + ["--output", output]
        scores = {name: tagging.main(common + [flag])["accuracy"]
                  for name, flag in (("bidirectional", "--bidirectional"), ("forward", "--no-bidirectional"))}
    print(f"test accuracy: bidirectional {scores['bidirectional']:.4f}, forward {scores['forward']:.4f}, "
          f"difference {scores['bidirectional'] - scores['forward']:+.4f}")
    return scores


if __name__ == "__main__":
    main()
