"""Sequence tagging (the tagging recipe): the files it reads (CoNLL-U, BIO
columns), how words become model inputs (`WordEncoder`), the SavedModel
that tags sentences, and scoring: token accuracy for POS, entity span F1
for NER.

A run folder holds `word_encoder.json`, `words.txt`, `characters.txt`,
`tags.txt` (id 0 is the padding tag) and `saved_model/`.
"""

import os

import numpy as np

from rnnzoo.data import PAD_ID, formats
from rnnzoo.data.reading import DataFormatError, read_json
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.exporting.text_serving import load_signature, serve_in_batches
from rnnzoo.metrics import span_f1, token_accuracy
from rnnzoo.utils.files import write_json

RECIPE = "tagging"
DATASETS = ("ud_english_ewt", "wnut17")
TAGS = "tags.txt"
TAG_PADDING = ("<pad>",)


def load_path(path, tag="upos", encoding="utf-8"):
    """CoNLL-U (`.conllu`) or BIO columns (anything else)."""
    if os.path.isfile(path) and path.endswith(".conllu"):
        return formats.load_conllu(path, tag=tag, encoding=encoding)
    return formats.load_bio(path, encoding=encoding)


def builtin_name(config):
    return config.get("task", "pos")


def file_options(config):
    """`load_path` options of a run (`--tag`: which CoNLL-U column)."""
    return {"tag": config.get("tag", "upos")}


def dataset_options(data, config):
    return file_options(config) if data == "ud_english_ewt" else {}


def is_run(run_dir):
    return os.path.exists(os.path.join(run_dir, TAGS)) and os.path.exists(os.path.join(run_dir, WordEncoder.FILE))


class WordEncoder:
    """Words -> word ids and character ids, the same way in Python (training)
    and in a TensorFlow graph (serving)."""

    FILE = "word_encoder.json"

    def __init__(self, words, characters, lowercase, max_word_length):
        self.words, self.characters = words, characters
        self.lowercase, self.max_word_length = lowercase, max_word_length

    @classmethod
    def adapt(cls, sentences, *, lowercase=True, min_frequency=1, max_size=None, max_word_length=20,
              characters=True):
        """Word (and character) vocabularies from training sentences."""
        import tensorflow as tf

        flat = [w for s in sentences for w in s.words]
        keys = cls._lower(tf.constant(flat)) if lowercase else flat
        words = Vocabulary.build([keys], min_frequency, max_size)
        characters = Vocabulary.build([list(w[:max_word_length]) for w in flat]) if characters else None
        return cls(words, characters, lowercase, max_word_length)

    @staticmethod
    def _lower(words):
        import tensorflow as tf

        return [w.decode("utf-8") for w in tf.strings.lower(words, encoding="utf-8").numpy().tolist()]

    def encode(self, sentences):
        """Lists: word ids per sentence, and character ids per word (or None)."""
        import tensorflow as tf

        flat = [w for s in sentences for w in s.words]
        ids = self.words.lookup(self._lower(tf.constant(flat)) if self.lowercase else flat)
        word_ids, chars, start = [], [], 0
        for sentence in sentences:
            end = start + len(sentence.words)
            word_ids.append(ids[start:end])
            if self.characters is not None:
                chars.append([self.characters.lookup(list(w[: self.max_word_length])) for w in sentence.words])
            start = end
        return word_ids, (chars if self.characters is not None else None)

    def tf_encode(self, words):
        """Ragged words `(batch, None)` -> model inputs (dense, right-padded)."""
        import tensorflow as tf

        keys = tf.strings.lower(words, encoding="utf-8") if self.lowercase else words
        inputs = {"tokens": self.words.tf_lookup(keys).to_tensor()}
        if self.characters is not None:
            chars = tf.strings.unicode_split(words, "UTF-8")[:, :, : self.max_word_length]
            inputs["characters"] = self.characters.tf_lookup(chars).to_tensor()
        return inputs

    def tables(self):
        return [v.tf_table() for v in (self.words, self.characters) if v is not None]

    def save(self, folder):
        self.words.save(os.path.join(folder, "words.txt"))
        if self.characters is not None:
            self.characters.save(os.path.join(folder, "characters.txt"))
        write_json(os.path.join(folder, self.FILE), {"lowercase": self.lowercase,
                                                     "max_word_length": self.max_word_length,
                                                     "characters": self.characters is not None})

    @classmethod
    def load(cls, folder):
        path = os.path.join(folder, cls.FILE)
        config = read_json(path)
        kinds = {"lowercase": bool, "max_word_length": int, "characters": bool}
        if not isinstance(config, dict):
            raise DataFormatError(path, None, f"expected a JSON object with {sorted(kinds)}.")
        for key, kind in kinds.items():
            if type(config.get(key)) is not kind:
                raise DataFormatError(path, None, f"{key!r} must be a {kind.__name__}, found {config.get(key)!r}.")
        if config["max_word_length"] < 1:
            raise DataFormatError(path, None, f"'max_word_length' must be >= 1, found {config['max_word_length']}.")
        characters = Vocabulary.load(os.path.join(folder, "characters.txt")) if config["characters"] else None
        return cls(Vocabulary.load(os.path.join(folder, "words.txt")), characters,
                   config["lowercase"], config["max_word_length"])


def score(task, true, found):
    """Tag strings per sentence -> `{"accuracy"}` for POS; for NER
    `({"f1", "precision", "recall", "token_accuracy"}, span_f1 report)`."""
    flat_true = [t for row in true for t in row]
    flat_found = [t for row in found for t in row]
    accuracy = token_accuracy(np.array(flat_true, object), np.array(flat_found, object), ignore_class=None)
    if task == "pos":
        return {"accuracy": accuracy}
    spans = span_f1(true, found)
    return {"f1": spans["overall"]["f1"], "precision": spans["overall"]["precision"],
            "recall": spans["overall"]["recall"], "token_accuracy": accuracy}, spans


def serving_function(model, encoder, tags):
    import tensorflow as tf

    names = tf.constant([""] + tags.tokens[1:])

    def serve(text):
        words = tf.strings.split(text)
        inputs = encoder.tf_encode(words)
        # One padding word keeps the width >= 1 (a batch of empty strings).
        inputs = {k: tf.pad(v, [[0, 0], [0, 1]] + [[0, 0]] * (len(v.shape) - 2)) for k, v in inputs.items()}
        mask = tf.not_equal(inputs["tokens"], PAD_ID) | tf.sequence_mask(
            words.row_lengths(), tf.shape(inputs["tokens"])[1])
        logits = model(inputs if encoder.characters is not None else inputs["tokens"], training=False)
        width = tf.shape(inputs["tokens"])[1] - 1
        tag_ids = tf.cast(model.decode(logits, mask), tf.int32)[:, :width]
        return {"tags": tf.gather(names, tag_ids), "tag_ids": tag_ids,
                "probabilities": model.tag_probabilities(logits, mask)[:, :width],
                "lengths": tf.cast(words.row_lengths(), tf.int32)}

    return serve


def served_text(words):
    """A sentence as the SavedModel reads it: words joined by spaces (a
    space inside a word becomes `_`, so words and tags stay aligned)."""
    return " ".join("_".join(word.split()) or "_" for word in words)


def evaluate_run(run_dir, examples, config):
    """Score the run's SavedModel on `TaggedSentence` examples with the
    task's metric (POS: token accuracy; NER: span F1 and per-type scores)."""
    signature = load_signature(os.path.join(run_dir, "saved_model"))
    outputs = serve_in_batches(signature, [served_text(e.words) for e in examples])
    found = [[t.decode("utf-8") for t in row[:n]] for o in outputs for row, n in zip(o["tags"], o["lengths"])]
    task = config.get("task", "pos")
    if task == "pos":
        return score("pos", [e.tags for e in examples], found)
    metrics, spans = score("ner", [e.tags for e in examples], found)
    return {**metrics, "per_type": spans["per_type"]}
