"""Metrics: Keras metrics for training (`MaskedAccuracy`, `Perplexity`) and
evaluation functions on lists and NumPy arrays."""

from rnnzoo.metrics.accuracy import MaskedAccuracy
from rnnzoo.metrics.classification import (
    classification_report,
    mean_absolute_error,
    mean_squared_error,
    token_accuracy,
)
from rnnzoo.metrics.perplexity import Perplexity, perplexity
from rnnzoo.metrics.spans import extract_spans, span_f1
from rnnzoo.metrics.text import (
    cer,
    corpus_bleu,
    rouge_l,
    rouge_n,
    sacrebleu_score,
    sentence_bleu,
    wer,
)

__all__ = [
    "MaskedAccuracy", "Perplexity", "cer", "classification_report", "corpus_bleu",
    "extract_spans", "mean_absolute_error", "mean_squared_error", "perplexity",
    "rouge_l", "rouge_n", "sacrebleu_score", "sentence_bleu", "span_f1",
    "token_accuracy", "wer",
]
