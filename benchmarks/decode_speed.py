"""Decoding speed of one trained translator, in one run: sentences per second
of a keras-io-style decode (one sentence at a time, `encoder.predict` once
and one `step.predict` call per token, as in keras-io's `lstm_seq2seq`),
of the compiled batched greedy decode, and of compiled beam search; the
outputs of the two greedy decoders are checked to be the same.

    python -m benchmarks.decode_speed saved_models/translation/RUN [--sentences 1000] [--slow-sentences 50]

Without a run folder it trains nothing: it builds an untrained model of the
recipe's default size on the built-in pairs (speed does not depend on the
weights; the agreement check still applies).
"""

import argparse
import json
import os
import time

import keras
import numpy as np

from rnnzoo.data.builtin import load_builtin
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.data import until_end
from rnnzoo.exporting.generator import greedy_decode_by_steps
from rnnzoo.tasks import translation
from rnnzoo.utils.saving import load_model


def keras_io_decode(encoder, step, source_ids, max_length):
    """One sentence: `predict` the encoder, then `predict` one step per token."""
    return greedy_decode_by_steps(lambda x: encoder.predict(x, verbose=0), lambda x: step.predict(x, verbose=0),
                                  np.array([source_ids], "int32"), max_length=max_length)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", help="a translation run folder (default: untrained built-in model)")
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--sentences", type=int, default=1000, help="test sentences for the compiled decoders")
    parser.add_argument("--slow-sentences", type=int, default=50, help="test sentences for the keras-io decode")
    parser.add_argument("--beam-size", type=int, default=5)
    args = parser.parse_args(argv)

    if args.run_dir:
        model = load_model(os.path.join(args.run_dir, "model.keras"))
        source_encoder = TextEncoder.load(os.path.join(args.run_dir, "source"))
        with open(os.path.join(args.run_dir, "config.json"), encoding="utf-8") as file:
            data = json.load(file).get("data", "builtin")
    else:
        data, model = "builtin", None
    if data == "multi30k":
        from rnnzoo.data.datasets import load_dataset

        pairs = load_dataset("multi30k", "test_2016_flickr", root=args.data_root)
    else:
        pairs = load_builtin("translation", "test")
    if model is None:
        source_encoder = TextEncoder.adapt([p.source for p in load_builtin("translation", "train")])
        target_encoder = TextEncoder.adapt([p.target for p in load_builtin("translation", "train")])
        import rnnzoo

        model = rnnzoo.build_model("encoder_decoder", source_vocab_size=source_encoder.vocab_size,
                                   target_vocab_size=target_encoder.vocab_size, units=256, embedding_dim=256,
                                   bidirectional=True, attention="luong")
    sources = [row or [1] for row in source_encoder.encode_to_lists(p.source for p in pairs[: args.sentences])]
    max_length = max(len(s) for s in sources) * 2 + 10
    encoder, step = model.inference_models()

    started = time.perf_counter()
    slow = [keras_io_decode(encoder, step, s, max_length) for s in sources[: args.slow_sentences]]
    slow_rate = len(slow) / (time.perf_counter() - started)

    rates = {}
    for name, beam in (("greedy", 1), (f"beam {args.beam_size}", args.beam_size)):
        translation.translate_ids(model, sources[:8], max_length=max_length, beam_size=beam,
                                  length_penalty=0.6)  # trace once
        started = time.perf_counter()
        outputs = translation.translate_ids(model, sources, max_length=max_length, beam_size=beam,
                                            length_penalty=0.6)
        rates[name] = len(sources) / (time.perf_counter() - started)
        if beam == 1:
            same = np.mean([until_end(a) == until_end(b) for a, b in zip(outputs, slow)])
    keras.backend.clear_session()
    print(f"model: {args.run_dir or 'untrained, built-in vocabularies'}; {len(sources)} sentences "
          f"({args.slow_sentences} for the keras-io decode), max length {max_length}, batches of "
          f"{translation.DECODE_BATCH}")
    print(f"{'decoder':<28}{'sentences/s':>12}{'vs keras-io':>13}")
    print(f"{'keras-io (predict per token)':<28}{slow_rate:>12.1f}{1.0:>13.1f}")
    for name, rate in rates.items():
        print(f"{'compiled ' + name:<28}{rate:>12.1f}{rate / slow_rate:>13.1f}")
    print(f"beam {args.beam_size} costs {rates['greedy'] / rates[f'beam {args.beam_size}']:.2f}x greedy; "
          f"greedy outputs equal to the keras-io decode for {same:.1%} of {len(slow)} sentences")


if __name__ == "__main__":
    main()
