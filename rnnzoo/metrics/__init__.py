"""Metrics: Keras metrics for training (`MaskedAccuracy`, `Perplexity`),
evaluation functions on lists and NumPy arrays, `metrics.json` reports and
PNG plots. Forecast scores as the M4 competition defines them (sMAPE, MASE,
OWA, MSIS, coverage, pinball, CRPS), the baselines they are measured against
(naive, seasonal naive, Naive2) and split-conformal margins are in
`rnnzoo.metrics.forecasting`."""

from rnnzoo.metrics.accuracy import MaskedAccuracy
from rnnzoo.metrics.classification import (
    classification_report,
    mean_absolute_error,
    mean_squared_error,
    token_accuracy,
)
from rnnzoo.metrics.perplexity import Perplexity, perplexity
from rnnzoo.metrics.plots import (
    document_attention_html,
    plot_attention,
    plot_caption_grid,
    plot_confusion_matrix,
    plot_document_attention,
    plot_error_by_step,
    plot_forecasts,
    plot_per_class_f1,
    plot_training_curves,
)
from rnnzoo.metrics.report import Stopwatch, evaluation_report, library_versions, write_report
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
    "MaskedAccuracy", "Perplexity", "Stopwatch", "cer", "classification_report",
    "corpus_bleu", "document_attention_html", "evaluation_report", "extract_spans", "library_versions",
    "mean_absolute_error", "mean_squared_error", "perplexity", "plot_attention", "plot_caption_grid",
    "plot_confusion_matrix", "plot_document_attention", "plot_error_by_step", "plot_forecasts", "plot_per_class_f1",
    "plot_training_curves", "rouge_l", "rouge_n", "sacrebleu_score", "sentence_bleu", "span_f1", "token_accuracy",
    "wer",
    "write_report",
]
