"""Sequence tagging (the tagging recipe): `SequenceTagger`, the files it
reads (CoNLL-U, BIO columns), the SavedModel that tags sentences, and
scoring: token accuracy for POS, entity span F1 for NER. Words become
model inputs with `rnnzoo.preprocessing.words.WordEncoder`.

A run folder holds `word_encoder.json`, `words.txt`, `characters.txt`,
`tags.txt` (id 0 is the padding tag) and `saved_model/`.
"""

import os

import keras
import numpy as np

from rnnzoo.data import PAD_ID, formats
from rnnzoo.data.batching import pad_rows, ragged_dataset
from rnnzoo.data.reading import read_json
from rnnzoo.data.vocabulary import Vocabulary
from rnnzoo.exporting.text_serving import load_signature, serve_in_batches
from rnnzoo.metrics import classification_report, span_f1, token_accuracy
from rnnzoo.preprocessing.words import WordEncoder, sentence_words
from rnnzoo.tasks import Evaluation, recipe
from rnnzoo.tasks.base import Task, max_abs_difference

RECIPE = "tagging"
DATASETS = ("ud_english_ewt", "wnut17")
TAGS = "tags.txt"
TAG_PADDING = ("<pad>",)
MAX_SERVING_CHECK = 512


def load_path(path, tag="upos", encoding="utf-8"):
    """CoNLL-U (`.conllu`) or BIO columns (anything else)."""
    if os.path.isfile(path) and path.endswith(".conllu"):
        return formats.load_conllu(path, tag=tag, encoding=encoding)
    return formats.load_bio(path, encoding=encoding)


def file_options(config):
    """`load_path` options of a run (`--tag`: which CoNLL-U column)."""
    return {"tag": config.get("tag", "upos")}


def dataset_options(data, config):
    return file_options(config) if data == "ud_english_ewt" else {}


def is_run(run_dir):
    return os.path.exists(os.path.join(run_dir, TAGS)) and os.path.exists(os.path.join(run_dir, WordEncoder.FILE))


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
        logits = model(inputs if len(inputs) > 1 else inputs["tokens"], training=False)
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


def tagging_vocabularies(run, config, splits, language_models=()):
    """The `WordEncoder` (with the character language models' vocabulary
    as its context, given `language_models`) and the tag vocabulary (read
    back when resuming, so ids match)."""
    if os.path.exists(run.file(WordEncoder.FILE)):
        return WordEncoder.load(run.path), Vocabulary.load(run.file(TAGS), reserved=TAG_PADDING)
    encoder = WordEncoder.adapt(splits["train"], lowercase=config.lowercase, min_frequency=config.min_frequency,
                                max_size=config.vocab_size, max_word_length=config.max_word_length,
                                characters=bool(config.char_dim))
    encoder.context = context_vocabulary(language_models)
    # The tag set is the annotation scheme's: read it from every split.
    tags = Vocabulary(list(TAG_PADDING) + sorted({t for s in splits.values() for e in s for t in e.tags}),
                      reserved=TAG_PADDING)
    encoder.save(run.path)
    tags.save(run.file(TAGS))
    return encoder, tags


def tagged_dataset(encoder, tags, sentences):
    """`(dataset of (inputs, tag ids), word ids)` of `TaggedSentence`s."""
    columns = encoder.input_columns(sentences)
    tag_ids = [tags.lookup(s.tags) for s in sentences]
    if len(columns) == 1:
        return ragged_dataset(columns["tokens"], tag_ids), columns["tokens"]
    names = list(columns)
    return ragged_dataset(*columns.values(), tag_ids).map(lambda *row: (dict(zip(names, row[:-1])), row[-1])), \
        columns["tokens"]


# --- Contextual string embeddings: character language models read the sentence (Akbik et al. 2018) ---

def string_embedding_models(paths):
    """The character-level `LanguageModel`s of run folders or presets (a
    comma-separated string or a list): at most one forward and one
    backward, with one vocabulary. Returns them forward first."""
    from rnnzoo.tasks.language_model import load_language_model

    paths = [p for p in (paths.split(",") if isinstance(paths, str) else paths or ()) if p]
    models = [load_language_model(path, "--string-embeddings", "character", "contextual string embeddings read "
                                  "characters (train it with --level character).") for path in paths]
    paths = ",".join(p if isinstance(p, str) else "<LanguageModel>" for p in paths)
    directions = [m.backward for m in models]
    if len(set(directions)) != len(directions):
        raise ValueError(f"--string-embeddings {paths}: give at most one forward and one backward language "
                         "model (trained with --backward).")
    if len({tuple(m.encoder.vocabulary.tokens) for m in models}) > 1:
        raise ValueError(f"--string-embeddings {paths}: the language models have different character "
                         "vocabularies; train both on the same corpus.")
    return sorted(models, key=lambda m: m.backward)


def context_vocabulary(language_models):
    """The character vocabulary the language models read (None without them)."""
    if not language_models:
        return None
    tokenizer = language_models[0].encoder.tokenizer.get_config()
    if tokenizer.get("lowercase") or tokenizer.get("normalization"):
        raise ValueError(f"contextual string embeddings read characters as written; the language model's "
                         f"tokenizer changes them ({tokenizer}).")
    return language_models[0].encoder.vocabulary


def string_embedding_options(language_models, trainable=False):
    """`rnnzoo.build_model`'s `string_embeddings` option for these language
    models (None without them)."""
    if not language_models:
        return None
    options = language_models[0].encoder_options()
    options.pop("bidirectional")
    return {**options, "vocab_size": language_models[0].encoder.vocab_size, "trainable": bool(trainable),
            "directions": ["backward" if m.backward else "forward" for m in language_models]}


def load_string_embeddings(model, language_models):
    """Copies the language models' weights into the model's
    `string_embeddings` layer; returns a line that says what was copied."""
    if not language_models:
        return None
    layer = model.get_layer("string_embeddings")
    for language_model in language_models:
        layer.load_language_model("backward" if language_model.backward else "forward", language_model.model)
    state = "fine-tuned" if layer.trainable else "frozen"
    return f"contextual string embeddings ({state}): {', '.join(layer.directions)} character language models"


def _tokens(inputs):
    return inputs["tokens"] if isinstance(inputs, dict) else inputs


def predict(model, batches):
    """Per sentence: tag ids (a list) and tag probabilities `(words, tags)`."""
    tag_ids, probabilities = [], []
    for inputs, _ in batches:
        inputs = keras.tree.map_structure(np.asarray, inputs)  # tf.data tensors, for every backend
        mask = _tokens(inputs) != PAD_ID
        # Under a tf.distribute strategy, Keras 3.15's `predict_on_batch`
        # runs the whole batch on every replica and returns them all
        # stacked; the first `batch` rows are the answer either way.
        logits = model.predict_on_batch(inputs)[: len(mask)]
        decoded = keras.ops.convert_to_numpy(model.decode(logits, mask))
        batch_probabilities = keras.ops.convert_to_numpy(model.tag_probabilities(logits, mask))
        for row, row_probabilities, length in zip(decoded, batch_probabilities, mask.sum(axis=1)):
            tag_ids.append(row[:length].tolist())
            probabilities.append(row_probabilities[:length])
    return tag_ids, probabilities


def score_ids(task, tags, sentences, predicted_ids):
    """`score` of predicted tag ids against the sentences' tags."""
    return score(task, [s.tags for s in sentences], [tags.to_tokens(ids) for ids in predicted_ids])


class SequenceTagger(Task):
    """A tagger that takes raw sentences and answers with a tag per word:
    a `WordEncoder` (words and their characters) and the tag set (the
    preprocessor) and a `many_to_many` model with a softmax or CRF head.
    `task` is "pos" (scored by token accuracy) or "ner" (BIO tags, scored by
    entity span F1).

    ```python
    tagger = SequenceTagger.from_examples(sentences, tags, units=64)   # word lists and tag lists
    tagger.fit(sentences, tags, epochs=5)
    tagger.predict(["The cat isn't here."])   # [[("The", "DET"), ("cat", "NOUN"), ("is", "AUX"), ...]]
    tagger.evaluate(test_sentences, test_tags)["accuracy"]
    ```
    """

    recipe = RECIPE
    serves = "text in, tags out"

    def __init__(self, encoder, tags, model, task="pos"):
        if task not in ("pos", "ner"):
            raise ValueError(f"task must be 'pos' or 'ner', got {task!r}.")
        self.encoder, self.tags, self.model, self.task = encoder, tags, model, task

    @classmethod
    def from_examples(cls, sentences, tags, *, task=None, output_layer="auto", lowercase=True, min_frequency=1,
                      max_vocabulary=None, max_word_length=20, characters=True, char_embedding_dim=25,
                      char_units=25, string_embeddings=None, fine_tune_string_embeddings=False, **model_options):
        """Learn the word and character vocabularies and the tag set from
        training sentences (raw strings or word lists) and their tags, and
        build the model (compiled). `task`: "ner" when the tags are BIO
        (`B-`/`I-`), else "pos", unless given; `output_layer` "auto" is a
        CRF for NER, softmax for POS. `string_embeddings`: character-level
        language models (`LanguageModel`s, or their presets), a forward
        and/or a backward one, whose states at each word join its features
        (contextual string embeddings), frozen unless
        `fine_tune_string_embeddings`."""
        from rnnzoo.data.examples import TaggedSentence
        from rnnzoo.topologies import build_model

        examples = [TaggedSentence(w, list(t)) for w, t in zip(sentence_words(sentences), tags)]
        task = task or ("ner" if any(t[:2] in ("B-", "I-") for e in examples for t in e.tags) else "pos")
        encoder = WordEncoder.adapt(examples, lowercase=lowercase, min_frequency=min_frequency, max_size=max_vocabulary,
                                    max_word_length=max_word_length, characters=characters)
        language_models = string_embedding_models(string_embeddings)
        encoder.context = context_vocabulary(language_models)
        tag_set = Vocabulary(list(TAG_PADDING) + sorted({t for e in examples for t in e.tags}), reserved=TAG_PADDING)
        if output_layer == "auto":
            output_layer = "crf" if task == "ner" else "softmax"
        model = build_model("many_to_many", vocab_size=len(encoder.words), num_classes=len(tag_set),
                            char_vocab_size=len(encoder.characters) if characters else None,
                            char_embedding_dim=char_embedding_dim, char_units=char_units, output_layer=output_layer,
                            tag_names=tag_set.tokens,
                            crf_constraints="bio" if task == "ner" and output_layer == "crf" else None,
                            string_embeddings=string_embedding_options(language_models, fine_tune_string_embeddings),
                            **model_options)
        load_string_embeddings(model, language_models)
        return cls(encoder, tag_set, model, task)

    def _examples(self, sentences, tags=None):
        from rnnzoo.data.examples import TaggedSentence

        words = sentence_words(sentences)
        tags = [list(t) for t in tags] if tags is not None else [list(TAG_PADDING) * len(w) for w in words]
        if len(tags) != len(words):
            raise ValueError(f"{len(words)} sentences and {len(tags)} tag lists.")
        for index, (row, row_tags) in enumerate(zip(words, tags)):
            if len(row) != len(row_tags):
                raise ValueError(f"sentence {index + 1}: {len(row)} words and {len(row_tags)} tags.")
        return [TaggedSentence(w, t) for w, t in zip(words, tags)]

    def dataset(self, sentences, tags=None, *, batch_size=32, shuffle=False, seed=0):
        """Batches of word (and character) ids and tag ids: shuffled and
        bucketed by length, or (`shuffle=False`) in the sentences' order."""
        from rnnzoo.data.batching import batch_dataset

        examples = self._examples(sentences, tags)
        return batch_dataset(tagged_dataset(self.encoder, self.tags, examples)[0], batch_size,
                             boundaries="auto" if shuffle else None, shuffle_buffer=len(examples) if shuffle else None,
                             seed=seed)

    def predict_ids(self, sentences, batch_size=64):
        """`(examples, tag ids per sentence, probabilities per sentence)`; a
        sentence with no words gets no tags."""
        examples = self._examples(sentences)
        kept = [i for i, e in enumerate(examples) if e.words]
        ids, probabilities = [[] for _ in examples], [np.zeros((0, len(self.tags)), "float32") for _ in examples]
        if kept:
            found = predict(self.model, self.dataset([examples[i].words for i in kept], batch_size=batch_size))
            for i, row, p in zip(kept, *found):
                ids[i], probabilities[i] = row, p
        return examples, ids, probabilities

    def predict(self, sentences, batch_size=64):
        """`[[(word, tag), ...], ...]`: each sentence's words and their tags."""
        examples, ids, _ = self.predict_ids(sentences, batch_size)
        return [list(zip(e.words, self.tags.to_tokens(row))) for e, row in zip(examples, ids)]

    def evaluate(self, sentences, tags, batch_size=64):
        """POS: token accuracy and per-tag scores; NER: entity span F1,
        precision, recall, token accuracy and per-type scores."""
        examples = self._examples(sentences, tags)
        _, ids, _ = self.predict_ids([e.words for e in examples], batch_size)
        return test_metrics(self.task, self.tags, examples, ids)[0]

    def get_config(self):
        return {"task": self.task}

    @classmethod
    def run_options(cls, run_dir):
        config_path = os.path.join(run_dir, "config.json")
        return {"task": read_json(config_path).get("task", "pos")} if os.path.exists(config_path) else {}

    def save_assets(self, folder):
        self.encoder.save(folder)
        self.tags.save(os.path.join(folder, TAGS))

    @classmethod
    def load_assets(cls, folder):
        return {"encoder": WordEncoder.load(folder),
                "tags": Vocabulary.load(os.path.join(folder, TAGS), reserved=TAG_PADDING)}

    def serving(self):
        """`text` (words separated by spaces) -> `tags`, `tag_ids`,
        `probabilities` and `lengths`."""
        from rnnzoo.exporting.text_serving import TEXT_SPEC

        return (serving_function(self.model, self.encoder, self.tags), (TEXT_SPEC,),
                [self.model, *self.encoder.tables()])

    def export_check(self, signature, sentences):
        """Sentences whose words hold no spaces reach the SavedModel as the
        Keras model saw them; tags can differ only at near-ties (float
        rounding differs with batch shapes)."""
        examples, ids, probabilities = self.predict_ids(list(sentences)[:MAX_SERVING_CHECK])
        chosen = [i for i, e in enumerate(examples) if e.words and not any(" " in w or not w.strip() for w in e.words)]
        outputs = serve_in_batches(signature, [served_text(examples[i].words) for i in chosen])
        served = [(row[:n].tolist(), p[:n]) for o in outputs
                  for row, p, n in zip(o["tag_ids"], o["probabilities"], o["lengths"])]
        agreement = float(np.mean([found == ids[i] for (found, _), i in zip(served, chosen)])) if chosen else None
        difference = max((max_abs_difference(p, probabilities[i]) for (_, p), i in zip(served, chosen)), default=0.0)
        return {"examples": len(chosen), "sentence_agreement": agreement, "max_abs_diff": difference}


TFLITE_INPUTS = """`tokens`: int32 `(1, words)` word ids from `words.txt` (line number = id, 1 `<unk>`; lowercased
first when `word_encoder.json` says so), right-padded with 0 to the fixed length shown above (longer
sentences are cut there). With a character encoder, `characters`: int32 `(1, words, chars)` ids
from `characters.txt` of each word's first characters, right-padded with 0. The output `(1, words,
tags)` holds per-word tag scores in the order of `tags.txt`."""


TFLITE_CRF = """ They are the CRF's emissions: decode them with
Viterbi and the CRF's transition weights (`model.keras`, layer `crf`), or use the SavedModel, which
decodes in its graph."""


def export_tflite(run, config, model, encoder, tags, splits):
    """TFLite files scored on validation sentences with the task's metric.
    A character encoder and int8 need fixed lengths: the longest training
    sentence, and `--max-word-length` characters."""
    def model_inputs(sentences):
        word_ids, chars = encoder.encode(sentences)
        examples = []
        for index, ids in enumerate(word_ids):
            example = {"tokens": np.asarray(ids, "int32")}
            if chars is not None:
                example["characters"] = pad_rows(chars[index], config.max_word_length) if ids else \
                    np.zeros((0, config.max_word_length), "int32")
            examples.append(example)
        return examples

    sentences = splits["validation"]
    examples = model_inputs(sentences)

    def metric(outputs):
        lengths = np.array([len(e["tokens"]) for e in examples[: len(outputs)]])
        logits = pad_rows(outputs)
        width = logits.shape[1]
        mask = np.arange(width)[None, :] < np.minimum(lengths, [o.shape[0] for o in outputs])[:, None]
        decoded = np.asarray(model.decode(logits, mask))
        # Words past a fixed length were cut, so nothing was predicted for them: for POS they get the
        # padding tag (always wrong), for NER "O" (no entity; the padding tag is no BIO tag at all).
        filler = tags.index.get("O", PAD_ID) if config.task == "ner" else PAD_ID
        predicted = [row[:length].tolist() + [filler] * max(0, length - width)
                     for row, length in zip(decoded, lengths)]
        scores = score_ids(config.task, tags, sentences[: len(outputs)], predicted)
        return scores[0]["f1"] if config.task == "ner" else scores["accuracy"]

    if encoder.context is not None:
        print("TFLite: not written for a tagger with contextual string embeddings (its character context needs a "
              "fixed length of its own); serve the SavedModel, which takes raw text.")
        return None
    characters = encoder.characters is not None
    longest = max(len(s.words) for s in splits["train"])
    return recipe.export_tflite(run, config, model, examples, metric, sequence_length=longest if characters else None,
                                longest=longest,
                                calibration_examples=model_inputs(splits["train"][:100]),
                                word_length=config.max_word_length if characters else None)


def test_metrics(task, tags, sentences, predicted):
    """Test scores: span F1 (with per-type scores) for NER; token accuracy
    (with per-tag scores) for POS. Returns `(metrics, per-class scores)`."""
    if task == "ner":
        metrics, spans = score_ids("ner", tags, sentences, predicted)
        return {**metrics, "per_type": spans["per_type"]}, spans["per_type"]
    flat_true = [t for s in sentences for t in tags.lookup(s.tags)]
    report = classification_report(flat_true, [t for row in predicted for t in row], labels=range(1, len(tags)),
                                   label_names=tags.tokens[1:])
    return {**score_ids("pos", tags, sentences, predicted), "per_tag": report["per_class"]}, report["per_class"]


EVALUATION = Evaluation(RECIPE, DATASETS, lambda config: config.get("task", "pos"), load_path, evaluate_run,
                        file_options=file_options, dataset_options=dataset_options, is_run=is_run)
