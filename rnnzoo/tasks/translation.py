"""Translation (the translation recipe): the files it reads, decoding source
ids in batches, ids back to text, the string-to-string SavedModel, and
scoring a finished run on a file with sacreBLEU.

A run folder holds `source/` and `target/` (the `TextEncoder`s) and
`saved_model/`.
"""

import os

import keras
import numpy as np

from rnnzoo.data import END_ID, START_ID, formats, teacher_forcing
from rnnzoo.data.batching import in_length_order, ragged_dataset
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.decoding import decode, decoding_function
from rnnzoo.exporting.text_serving import (
    load_signature,
    serve_in_batches,
)
from rnnzoo.metrics import plot_attention, sacrebleu_score
from rnnzoo.data.examples import TextPair
from rnnzoo.data.reading import read_json
from rnnzoo.tasks import Evaluation
from rnnzoo.tasks.base import Task

RECIPE = "translation"
DATASETS = ("multi30k", "tatoeba_eng_fra")
DECODE_BATCH = 128
MAX_SERVING_CHECK = 256
PUNCTUATION = r" ([.,!?;:%)\]}'\"»])"  # detokenizing: no space before these


def load_path(path, encoding="utf-8"):
    """`source<TAB>target` lines: one file (split 80/10/10 with the seed) or a
    folder of files named for their split (`train.tsv`, `dev.tsv`, `test.tsv`)."""
    return formats.load_tsv_pairs(path, encoding=encoding)


def dataset_options(data, config):
    """Multi30k's languages, as the run was trained."""
    if data == "multi30k":
        return {"source_language": config.get("source_language", "en"),
                "target_language": config.get("target_language", "de")}
    return {}


def is_run(run_dir):
    return all(os.path.isdir(os.path.join(run_dir, side)) for side in ("source", "target"))


def close_punctuation(text):
    """No space before closing punctuation (graph op): "Hemd ." -> "Hemd."."""
    import tensorflow as tf

    return tf.strings.regex_replace(text, PUNCTUATION, r"\1")


def to_text(target_encoder, id_rows):
    """Generated id rows -> translations (Python strings)."""
    return [text.decode("utf-8") for text in close_punctuation(target_encoder.decode(id_rows)).numpy()]


def translate_ids(model, sources, *, max_length, beam_size, length_penalty):
    """Decoded target ids for each source id list, in batches sorted by
    length (less padding), returned in the input order."""
    return in_length_order(lambda batch: decode(model, batch, max_length=max_length, beam_size=beam_size,
                                                length_penalty=length_penalty), sources, DECODE_BATCH)


def serving_function(model, source_encoder, target_encoder, *, max_length, beam_size, length_penalty):
    """`text` (source strings) -> `translation` strings and `token_ids`, all
    in one graph: standardize, tokenize, look up, beam search, detokenize."""
    run = decoding_function(model, max_length=max_length, beam_size=beam_size, length_penalty=length_penalty)

    def serve(text):
        output = run(source_encoder.model_inputs(text))
        return {"translation": close_punctuation(target_encoder.ids_to_text(output)), "token_ids": output}

    return serve


def evaluate_run(run_dir, examples, config):
    """sacreBLEU of the run's SavedModel translations of `TextPair` sources
    against their targets."""
    signature = load_signature(os.path.join(run_dir, "saved_model"))
    outputs = serve_in_batches(signature, [pair.source for pair in examples], batch_size=DECODE_BATCH)
    hypotheses = [t.decode("utf-8") for o in outputs for t in o["translation"]]
    return {"bleu": sacrebleu_score(hypotheses, [pair.target for pair in examples])}


def translation_vocabularies(run, config, train):
    """Source and target `TextEncoder`s, read back when resuming (so ids match)."""
    options = {"vocab_size": config.vocab_size} if config.tokenizer == "wordpiece" else {}
    return tuple(TextEncoder.resume_or_adapt(run.file(side), [getattr(pair, side) for pair in train],
                                             tokenizer=config.tokenizer, max_size=config.vocab_size,
                                             lowercase=config.lowercase, **options)
                 for side in ("source", "target"))


def encode_pairs(encoders, pairs):
    """`(source id lists, target id lists)`; an empty source reads as <unk>."""
    source_encoder, target_encoder = encoders
    sources = source_encoder.model_rows(p.source for p in pairs)
    targets = target_encoder.encode_to_lists(p.target for p in pairs)
    return sources, targets


def drop_long_pairs(sources, targets, max_length):
    """The pairs whose source and target (with its end token) fit in
    `max_length` tokens; says how many were dropped."""
    keep = [i for i, (s, t) in enumerate(zip(sources, targets)) if len(s) <= max_length and len(t) + 1 <= max_length]
    if len(keep) < len(sources):
        print(f"training pairs longer than {max_length} tokens dropped: {len(sources) - len(keep)}")
    return [sources[i] for i in keep], [targets[i] for i in keep]


def teacher_forcing_dataset(sources, targets):
    """Teacher forcing (`data.teacher_forcing`): decoder input = START + target, labels = target + END."""
    dataset = ragged_dataset(sources, *teacher_forcing(targets))
    return dataset.map(lambda s, d, y: ({"source_tokens": s, "decoder_tokens": d}, y))


def plot_example_attention(run, model, encoders, source_ids, output_ids):
    """Attention heatmap of the first test sentence's translation."""
    source_encoder, target_encoder = encoders
    encoder, step = model.inference_models()
    encoded = encoder(np.array([source_ids], "int32"))
    decoder_tokens = keras.ops.convert_to_tensor([[START_ID] + list(output_ids)], "int32")
    outputs = step({"decoder_tokens": decoder_tokens, **encoded})
    weights = np.asarray(outputs["attention"])[0]
    return plot_attention(weights, source_encoder.vocabulary.to_tokens(source_ids),
                          target_encoder.vocabulary.to_tokens(list(output_ids) + [END_ID]),
                          run.file("attention.png"))


EVALUATION = Evaluation(RECIPE, DATASETS, lambda config: "translation", load_path, evaluate_run,
                        dataset_options=dataset_options, is_run=is_run)


class Translator(Task):
    """A translator that takes raw source sentences and answers with target
    sentences: a `TextEncoder` per language (the preprocessor; START/END
    packing and the stop rule are `rnnzoo.data`'s) and an `encoder_decoder`
    model with attention; beam search (`rnnzoo.decoding`).

    ```python
    translator = Translator.from_examples(sources, targets, units=128, attention="luong")
    translator.fit(sources, targets, epochs=10)
    translator.predict(["A man is riding a bike."])    # ["Ein Mann fährt Fahrrad."]
    translator.evaluate(test_sources, test_targets)    # {"bleu": ..., "perplexity": ...}
    ```
    """

    recipe = RECIPE
    serves = "text in, text out"

    def __init__(self, source_encoder, target_encoder, model, max_length=50, beam_size=4, length_penalty=0.6):
        self.source_encoder, self.target_encoder, self.model = source_encoder, target_encoder, model
        self.max_length, self.beam_size, self.length_penalty = int(max_length), int(beam_size), float(length_penalty)

    @classmethod
    def from_examples(cls, sources, targets, *, tokenizer="word", lowercase=True, max_vocabulary=None, beam_size=4,
                      length_penalty=0.6, **model_options):
        """Learn a vocabulary per language from training pairs and build the
        model (compiled). The longest output decoded is 1.5 times the
        longest training target, plus 5 tokens."""
        from rnnzoo.topologies import build_model

        options = {"vocab_size": max_vocabulary} if tokenizer == "wordpiece" and max_vocabulary else {}
        source_encoder, target_encoder = (
            TextEncoder.adapt(texts, tokenizer=tokenizer, max_size=max_vocabulary, lowercase=lowercase, **options)
            for texts in (sources, targets))
        model = build_model("encoder_decoder", source_vocab_size=source_encoder.vocab_size,
                            target_vocab_size=target_encoder.vocab_size, **model_options)
        longest = max((len(row) for row in target_encoder.encode_to_lists(targets)), default=1)
        return cls(source_encoder, target_encoder, model, max_length=int(longest * 1.5) + 5, beam_size=beam_size,
                   length_penalty=length_penalty)

    def dataset(self, sources, targets=None, *, batch_size=32, shuffle=False, seed=0):
        """Teacher-forcing batches (`data.teacher_forcing`), bucketed by length."""
        from rnnzoo.data.batching import batch_dataset

        if targets is None:
            raise ValueError("a translator trains on source and target sentences: give both.")
        pairs = encode_pairs((self.source_encoder, self.target_encoder),
                             [TextPair(s, t) for s, t in zip(sources, targets)])
        return batch_dataset(teacher_forcing_dataset(*pairs), batch_size,
                             shuffle_buffer=len(pairs[0]) if shuffle else None, seed=seed)

    def translate_ids(self, sources, beam_size=None):
        """Target ids of each source sentence, up to END."""
        return translate_ids(self.model, self.source_encoder.model_rows(sources), max_length=self.max_length,
                             beam_size=self.beam_size if beam_size is None else beam_size,
                             length_penalty=self.length_penalty)

    def predict(self, sources, batch_size=None, beam_size=None):
        """The translation of each source sentence (beam search; `beam_size=1`: greedy)."""
        return to_text(self.target_encoder, self.translate_ids(list(sources), beam_size))

    def evaluate(self, sources, targets, batch_size=64):
        """sacreBLEU of the beam-search translations and the perplexity of
        the targets under teacher forcing."""
        loss = self.model.evaluate(self.dataset(sources, targets, batch_size=batch_size), verbose=0,
                                   return_dict=True)["loss"]
        return {"bleu": sacrebleu_score(self.predict(sources), list(targets)), "perplexity": float(np.exp(loss))}

    def get_config(self):
        return {"max_length": self.max_length, "beam_size": self.beam_size, "length_penalty": self.length_penalty}

    @classmethod
    def run_options(cls, run_dir):
        """A run's decoding options, from its `metrics.json` (the recipe
        wrote them there)."""
        path = os.path.join(run_dir, "metrics.json")
        decoding = read_json(path).get("decoding", {}) if os.path.exists(path) else {}
        return {k: decoding[k] for k in ("max_length", "beam_size", "length_penalty") if k in decoding}

    def save_assets(self, folder):
        self.source_encoder.save(os.path.join(folder, "source"))
        self.target_encoder.save(os.path.join(folder, "target"))

    @classmethod
    def load_assets(cls, folder):
        return {f"{side}_encoder": TextEncoder.load(os.path.join(folder, side)) for side in ("source", "target")}

    def serving(self):
        """`text` (source strings) -> `translation` and `token_ids`."""
        from rnnzoo.exporting.text_serving import TEXT_SPEC

        serve = serving_function(self.model, self.source_encoder, self.target_encoder, max_length=self.max_length,
                                 beam_size=self.beam_size, length_penalty=self.length_penalty)
        return serve, (TEXT_SPEC,), [self.model, self.source_encoder.vocabulary.tf_table()]

    def export_check(self, signature, sources):
        sources = list(sources)[:MAX_SERVING_CHECK]
        outputs = serve_in_batches(signature, sources, batch_size=DECODE_BATCH)
        served = [t.decode("utf-8") for o in outputs for t in o["translation"]]
        return {"agreement": float(np.mean([a == b for a, b in zip(served, self.predict(sources))]))}
