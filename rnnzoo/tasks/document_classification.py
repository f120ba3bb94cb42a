"""Document classification (the document_classification recipe):
`DocumentClassifier`, the files it reads, the cross-validation folds of
movie_reviews, the SavedModel mapping raw documents to labels and sentence
attention (the pictures of that attention are `rnnzoo.metrics`').

A document is read as its sentences of words (`preprocessing.documents`):
a `hierarchical` model (Yang et al. 2016) encodes each sentence's words and
then the sentences; a flat `many_to_one` model reads the same words as one
sequence, for comparison. A preset (and a run folder) holds what a
`TextClassifier`'s does (`tokens/`, `labels.txt`, `label_names.txt`,
`model.keras`) and `task.json` says how many sentences and words are read.
"""

import os

import numpy as np

from rnnzoo.data.datasets import file_prefix_folds, load_dataset
from rnnzoo.exporting.text_serving import TEXT_SPEC
from rnnzoo.preprocessing.documents import DocumentEncoder
from rnnzoo.tasks import Evaluation
from rnnzoo.tasks import text_classification as classification

RECIPE = "document_classification"
DATASETS = ("movie_reviews", "imdb")


def load_path(path, encoding="utf-8"):
    """A folder of class sub-folders (one document per `.txt` file, a
    sentence per line, as `keras.utils.text_dataset_from_directory` reads),
    or `text<TAB>label` / `label text` lines (one document per line, split
    into sentences after `.`, `!` and `?`)."""
    return classification.load_path(path, encoding)


def cross_validation_splits(config):
    """`movie_reviews`' splits for `config.fold` (fold k tests: the files
    named `cv{k}..`), or None for other data."""
    if config.data != "movie_reviews" or os.path.exists(config.data):
        return None
    examples = load_dataset("movie_reviews", "all", root=config.data_root, download=config.download,
                            encoding=config.encoding)
    return file_prefix_folds(config.fold or 0)(examples, config.seed)


def is_hierarchical(model):
    return len(model.inputs[0].shape) == 3


class DocumentClassifier(classification.TextClassifier):
    """A classifier of whole documents (reviews, reports, articles): raw
    strings in, label names out, read as sentences of words by a
    `hierarchical` model (or as one sequence by a flat `many_to_one`).

    ```python
    classifier = DocumentClassifier.from_examples(documents, labels, max_sentences=60, max_words=50)
    classifier.fit(documents, labels, epochs=10)
    classifier.predict([open("review.txt").read()])   # [("positive", 0.91)]
    classifier.explain(["..."])[0]["sentences"]        # sentences with their attention weights
    ```
    """

    recipe = RECIPE
    serves = "document in, label and sentence attention out"

    def __init__(self, encoder, labels, model, names=None, max_sentences=60, max_words=50):
        super().__init__(encoder, labels, model, names)
        self.max_sentences, self.max_words = max_sentences, max_words
        self.documents = DocumentEncoder(encoder, max_sentences, max_words)
        self.hierarchical = is_hierarchical(model)

    @classmethod
    def from_examples(cls, texts, labels, *, names=None, model="hierarchical", tokenizer="word", min_frequency=1,
                      max_vocabulary=30000, max_sentences=60, max_words=50, **model_options):
        """Learn the vocabulary and labels from training documents and build
        the model: `build_model("hierarchical", **model_options)` or, with
        `model="flat"`, `build_model("many_to_one", ...)`."""
        from rnnzoo.data.text_encoder import TextEncoder
        from rnnzoo.data.vocabulary import Vocabulary
        from rnnzoo.topologies import build_model

        texts = list(texts)
        encoder = TextEncoder.adapt(texts, tokenizer=tokenizer, min_frequency=min_frequency, max_size=max_vocabulary)
        labels = Vocabulary(sorted({str(label) for label in labels}), reserved=())
        topology = {"hierarchical": "hierarchical", "flat": "many_to_one"}[model]
        network = build_model(topology, vocab_size=encoder.vocab_size, num_classes=len(labels), **model_options)
        return cls(encoder, labels, network, [(names or {}).get(label, label) for label in labels.tokens],
                   max_sentences, max_words)

    @property
    def sentence_attention(self):
        """Whether the model weighs sentences by attention (what `explain`
        and the SavedModel's `sentence_attention` show)."""
        config = self.model.get_config()
        return self.hierarchical and config["pooling"] == "attention" and not config["per_segment"]

    def get_config(self):
        return {"max_sentences": self.max_sentences, "max_words": self.max_words}

    def token_ids(self, texts):
        """Documents -> `(sentences, words)` id arrays (a flat model: the
        same ids as one row)."""
        return self.documents.model_rows(texts) if self.hierarchical else self.documents.flat_rows(texts)

    def model_inputs(self, texts):
        """Raw documents -> the model's padded ids, in graph ops."""
        return self.documents.model_inputs(texts) if self.hierarchical else self.documents.flat_model_inputs(texts)

    def explain(self, texts):
        """Per document: `label`, `probability`, and `sentences`: `(sentence,
        weight, [(word, weight), ...])` for each sentence read, from the
        attention of a hierarchical model (weights of sentences and of each
        sentence's words sum to 1)."""
        if not self.sentence_attention:
            raise ValueError("explain() needs a hierarchical model with attention over sentences (pooling="
                             "'attention').")
        results = []
        for sentences, ids in zip(self.documents.sentences(texts), self.token_ids(texts)):
            outputs = self.model.attention_weights(ids[None])
            probabilities = _softmax(outputs["logits"][0])
            step = outputs.get("step_attention")
            tokens = self.encoder.tokenizer.tokenize(sentences).to_list() if sentences else []
            rows = []
            for index, (sentence, words) in enumerate(zip(sentences, tokens)):
                words = [word.decode("utf-8") for word in words[: self.max_words]]  # as read, unknown words too
                rows.append((sentence, float(outputs["segment_attention"][0, index]),
                             [(word, float(step[0, index, k]) if step is not None else 0.0)
                              for k, word in enumerate(words)]))
            best = int(probabilities.argmax())
            results.append({"label": self.names[best], "probability": float(probabilities[best]), "sentences": rows})
        return results

    def serving(self):
        """Raw documents (`text`) -> `label`, `label_id`, `probabilities`
        and, for a hierarchical model with sentence attention, `sentences`
        (the sentences read, padded with "") and `sentence_attention`."""
        import tensorflow as tf

        from rnnzoo.preprocessing.documents import split_sentences

        names = tf.constant(self.names)
        attention = self.model.attention_model() if self.sentence_attention else None

        def serve(text):
            inputs = self.model_inputs(text)
            outputs = attention(inputs, training=False) if attention is not None else {
                "logits": self.model(inputs, training=False)}
            probabilities = tf.nn.softmax(outputs["logits"], axis=-1)
            label_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            served = {"label": tf.gather(names, label_id), "label_id": label_id, "probabilities": probabilities}
            if attention is not None:
                sentences = split_sentences(text)[:, : self.max_sentences].to_tensor(default_value="")
                weights = outputs["segment_attention"]
                width = tf.shape(sentences)[1]
                served["sentences"] = sentences
                served["sentence_attention"] = tf.pad(weights, [[0, 0], [0, tf.maximum(width - tf.shape(weights)[1],
                                                                                           0)]])[:, :width]
            return served

        tracked = [self.model, self.encoder.vocabulary.tf_table()] + ([attention] if attention is not None else [])
        return serve, (TEXT_SPEC,), tracked


def _softmax(logits):
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


TFLITE_INPUTS = """`tokens`: int32 ids, `(1, sentences, words)` for a hierarchical model (fixed at
`max_sentences` x `max_words` of `task.json`: pad with 0) or `(1, length)` for a flat one: split the
document into sentences (its lines, else after `.`, `!`, `?`), tokenize each as `tokens/tokenizer.json`
says and look each token up in `tokens/vocabulary.txt` (line number = id; 1 `<unk>`). The output
`logits` `(1, classes)` is in the order of `labels.txt`."""


def export_tflite(run, config, classifier, data):
    """TFLite files scored by validation accuracy; a hierarchical model's
    take `max_sentences` x `max_words` ids."""
    fixed = ({"sequence_length": classifier.max_sentences, "word_length": classifier.max_words}
             if classifier.hierarchical else {})
    return classification.export_tflite(run, config, classifier.model, data, **fixed)


def summarize_folds(results, metric="accuracy"):
    """Mean and (sample) standard deviation of `metric` over folds."""
    values = np.array([result[metric] for result in results], "float64")
    return {"folds": len(values), f"mean_{metric}": float(values.mean()),
            f"std_{metric}": float(values.std(ddof=1)) if len(values) > 1 else 0.0, metric: values.tolist()}


def write_cross_validation(config, results):
    """Print and write (`OUTPUT/document_classification/<run>-10fold.json`)
    the folds' accuracy, mean and standard deviation; returns the summary.
    A file of that name that rnnzoo did not write is left as it is."""
    from rnnzoo.tasks.recipe import config_options
    from rnnzoo.training.runs import default_run_name
    from rnnzoo.utils.files import write_json

    summary = {"kind": "cross_validation", "recipe": RECIPE, "data": config.data, **summarize_folds(results),
               "macro_f1": [float(result["macro_f1"]) for result in results]}
    name = config.run or default_run_name(config_options(config))
    path = os.path.join(config.output, RECIPE, f"{name}-{len(results)}fold.json")
    if os.path.exists(path) and not _is_cross_validation(path):
        raise ValueError(f"{path}: exists and rnnzoo did not write it; it is left as it is: pass another --run.")
    write_json(path, {**summary, "config": config_options(config)})
    print(f"{len(results)}-fold cross-validation: accuracy {summary['mean_accuracy']:.4f} "
          f"+- {summary['std_accuracy']:.4f} (folds: {', '.join(f'{a:.3f}' for a in summary['accuracy'])}); {path}")
    return summary


EVALUATION = Evaluation(RECIPE, DATASETS, lambda config: "documents", load_path, classification.evaluate_run)


def _is_cross_validation(path):
    from rnnzoo.data.reading import DataFormatError, read_json

    try:
        found = read_json(path)
    except (DataFormatError, UnicodeDecodeError):
        return False
    return isinstance(found, dict) and found.get("kind") == "cross_validation"
