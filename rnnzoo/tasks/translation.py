"""Translation (the translation recipe): the files it reads, decoding source
ids in batches, ids back to text, the string-to-string SavedModel, and
scoring a finished run on a file with sacreBLEU.

A run folder holds `source/` and `target/` (the `TextEncoder`s) and
`saved_model/`.
"""

import os

from rnnzoo.data import UNK_ID, formats
from rnnzoo.data.batching import in_length_order
from rnnzoo.decoding import decode, decoding_function
from rnnzoo.exporting.text_serving import ids_to_text, load_signature, rows_to_text, serve_in_batches
from rnnzoo.metrics import sacrebleu_score

RECIPE = "translation"
DATASETS = ("multi30k", "tatoeba_eng_fra")
DECODE_BATCH = 128
PUNCTUATION = r" ([.,!?;:%)\]}'\"»])"  # detokenizing: no space before these


def load_path(path, encoding="utf-8"):
    """`source<TAB>target` lines: one file (split 80/10/10 with the seed) or a
    folder of files named for their split (`train.tsv`, `dev.tsv`, `test.tsv`)."""
    return formats.load_tsv_pairs(path, encoding=encoding)


def builtin_name(config):
    return "translation"


def file_options(config):
    return {}


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
    return rows_to_text(target_encoder, id_rows, postprocess=close_punctuation)


def translate_ids(model, sources, *, max_length, beam_size, length_penalty):
    """Decoded target ids for each source id list, in batches sorted by
    length (less padding), returned in the input order."""
    return in_length_order(lambda batch: decode(model, batch, max_length=max_length, beam_size=beam_size,
                                                length_penalty=length_penalty), sources, DECODE_BATCH)


def serving_function(model, source_encoder, target_encoder, *, max_length, beam_size, length_penalty):
    """`text` (source strings) -> `translation` strings and `token_ids`, all
    in one graph: standardize, tokenize, look up, beam search, detokenize."""
    import tensorflow as tf

    run = decoding_function(model, max_length=max_length, beam_size=beam_size, length_penalty=length_penalty)

    def serve(text):
        ragged = source_encoder.encode(text)
        ids = tf.pad(ragged.to_tensor(), [[0, 0], [0, 1]])  # width >= 1
        first = tf.where(tf.equal(ragged.row_lengths(), 0), UNK_ID, ids[:, 0])  # an empty text reads as <unk>
        ids = tf.concat([first[:, None], ids[:, 1:]], axis=1)
        output = run(ids)
        return {"translation": ids_to_text(target_encoder, output, postprocess=close_punctuation),
                "token_ids": output}

    return serve


def evaluate_run(run_dir, examples, config):
    """sacreBLEU of the run's SavedModel translations of `TextPair` sources
    against their targets."""
    signature = load_signature(os.path.join(run_dir, "saved_model"))
    outputs = serve_in_batches(signature, [pair.source for pair in examples], batch_size=DECODE_BATCH)
    hypotheses = [t.decode("utf-8") for o in outputs for t in o["translation"]]
    return {"bleu": sacrebleu_score(hypotheses, [pair.target for pair in examples])}
