"""PNG plots people read after training (and the HTML page of a document's
attention, which needs nothing). matplotlib is an optional extra
(`pip install rnnzoo[plots]`): without it each function prints one line
saying so and returns None, so a run never fails for want of a plot."""

import html
import os
import sys

import numpy as np

from rnnzoo.utils.files import atomic_write, write_text

MISSING_MATPLOTLIB = ("rnnzoo: matplotlib is not installed; skipping {what} ({path}). "
                      "`pip install matplotlib` to get plots.")


def _pyplot(what, path):
    try:
        import matplotlib
    except ImportError:
        print(MISSING_MATPLOTLIB.format(what=what, path=path), file=sys.stderr)
        return None
    matplotlib.use("Agg")  # files only; never opens a window
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    import matplotlib.pyplot as plt

    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
    plt.close(fig)
    return os.fspath(path)


def plot_training_curves(history, path, metric=None):
    """Loss and one metric per epoch, train vs validation.

    `history` is what `fit` returns (or its `.history` dict). `metric` picks
    the metric panel; by default the first non-loss metric.
    """
    history = getattr(history, "history", history)
    if not history or "loss" not in history:
        raise ValueError("history has no 'loss': pass what model.fit() returned.")
    if metric is None:
        candidates = [k for k in history if k not in ("loss", "learning_rate") and not k.startswith("val_")]
        metric = candidates[0] if candidates else None
    elif metric not in history:
        raise ValueError(f"metric {metric!r} is not in history (has {sorted(history)}).")
    plt = _pyplot("training curves", path)
    if plt is None:
        return None
    panels = ["loss"] + ([metric] if metric else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    for ax, name in zip(axes[0], panels):
        epochs = np.arange(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, path)


def plot_confusion_matrix(matrix, labels, path, normalize=True):
    """Heatmap of a confusion matrix (rows: true label, columns: predicted);
    `normalize` divides each row by its count."""
    matrix = np.asarray(matrix, dtype="float64")
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(labels):
        raise ValueError(f"confusion matrix of shape {matrix.shape} does not match {len(labels)} labels.")
    plt = _pyplot("confusion matrix", path)
    if plt is None:
        return None
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    size = max(4.0, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.046)
    colorbar.set_label("fraction of the true label's examples" if normalize else "examples")
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(labels) <= 20:
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, f"{int(value)}", ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.5 * shown.max() else "black")
    return _save(fig, path)


def plot_attention(weights, source_tokens, target_tokens, path):
    """Heatmap of attention weights, shape (target length, source length)."""
    weights = np.asarray(weights, dtype="float64")
    if weights.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(
            f"attention weights of shape {weights.shape} do not match "
            f"{len(target_tokens)} target x {len(source_tokens)} source tokens."
        )
    plt = _pyplot("attention heatmap", path)
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(max(4, 0.4 * len(source_tokens) + 2),
                                    max(3, 0.4 * len(target_tokens) + 1.5)))
    image = ax.imshow(weights, cmap="viridis", vmin=0, aspect="auto")
    fig.colorbar(image, ax=ax, fraction=0.046).set_label("attention weight")
    ax.set_xticks(range(len(source_tokens)), source_tokens, rotation=90)
    ax.set_yticks(range(len(target_tokens)), target_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    return _save(fig, path)


def plot_per_class_f1(per_class, path):
    """Horizontal bars of F1 per class; `per_class` maps name -> {"f1": ...}
    (the `per_class` of `classification_report` or `per_type` of `span_f1`)."""
    if not per_class:
        raise ValueError("per_class is empty: nothing to plot.")
    names = list(per_class)
    scores = [float(per_class[name]["f1"]) for name in names]
    plt = _pyplot("per-class F1", path)
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, max(2.5, 0.35 * len(names) + 1)))
    ax.barh(range(len(names)), scores, color="tab:blue")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    for i, score in enumerate(scores):
        ax.text(min(score + 0.01, 0.9), i, f"{score:.3f}", va="center", fontsize=8)
    return _save(fig, path)


def plot_caption_grid(images, predicted, references, path, columns=4):
    """Test images with their predicted (black) and reference (grey) captions."""
    images = np.asarray(images, dtype="float32")
    if not len(images) == len(predicted) == len(references):
        raise ValueError(f"{len(images)} images, {len(predicted)} predicted and {len(references)} reference "
                         "captions: give one of each per image.")
    plt = _pyplot("caption grid", path)
    if plt is None:
        return None
    rows = int(np.ceil(len(images) / columns))
    height, width = images.shape[1:3]
    panel = 3.2
    fig, axes = plt.subplots(rows, columns, figsize=(columns * panel, rows * (panel * height / width + 0.8)),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, guess, truth in zip(axes.ravel(), images, predicted, references):
        ax.imshow(np.clip(image[..., 0] if image.shape[-1] == 1 else image, 0, 1),
                  cmap="gray" if image.shape[-1] == 1 else None)
        ax.set_title(f"{guess}\n({truth})", fontsize=8, color="black" if guess == truth else "firebrick")
    return _save(fig, path)


def plot_forecasts(history, future, predicted, column, path, count=4, lower=None, upper=None, names=None):
    """A few test windows of one column: history, truth and forecast, with
    the interval `[lower, upper]` shaded when given; `names` label the
    windows (series ids)."""
    plt = _pyplot("forecasts", path)
    if plt is None:
        return None
    picks = np.linspace(0, len(history) - 1, min(count, len(history))).astype(int)
    fig, axes = plt.subplots(len(picks), 1, figsize=(9, 2.2 * len(picks)), squeeze=False)
    lookback = history.shape[1]
    for ax, index in zip(axes[:, 0], picks):
        ax.plot(np.arange(lookback), history[index, :, column], color="0.4", label="history")
        steps = np.arange(lookback, lookback + future.shape[1])
        ax.plot(steps, future[index, :, column], label="truth")
        ax.plot(steps, predicted[index, :, column], label="forecast")
        if lower is not None:
            ax.fill_between(steps, lower[index, :, column], upper[index, :, column], alpha=0.25, label="interval")
        ax.set_ylabel(names[index] if names is not None else f"window {index}")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper left")
    axes[-1, 0].set_xlabel("step")
    return _save(fig, path)


def plot_error_by_step(mse_by_step, path):
    plt = _pyplot("error by horizon step", path)
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(np.arange(1, len(mse_by_step) + 1), mse_by_step)
    ax.set_xlabel("steps ahead")
    ax.set_ylabel("test MSE (normalized)")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _shade(weight, top):
    return min(1.0, max(0.0, weight / top)) if top > 0 else 0.0


def plot_document_attention(document, path, max_sentences=40, max_words=22):
    """A document's sentences, each marked at the left by its sentence
    weight (blue) and its words shaded by their weight in the sentence
    (orange), normalized per document and per sentence. `document`:
    `{"label", "probability", "sentences": [(sentence, weight, [(word,
    weight), ...]), ...]}` (`DocumentClassifier.explain`)."""
    plt = _pyplot("document attention", path)
    if plt is None:
        return None
    rows = document["sentences"][:max_sentences]
    fig, ax = plt.subplots(figsize=(12, 0.32 * len(rows) + 0.9))
    ax.set_xlim(0, 1)
    ax.set_ylim(len(rows), -0.5)
    ax.axis("off")
    ax.set_title(f"{document['label']} (p={document['probability']:.3f}): sentence attention (left), "
                 "word attention (shading)", fontsize=10, loc="left")
    top = max([weight for _, weight, _ in rows] or [1.0])
    char = 0.0075  # axis width of one monospace character at this size
    for row, (_, weight, words) in enumerate(rows):
        ax.add_patch(plt.Rectangle((0, row - 0.4), 0.012, 0.8, color=(0.12, 0.35, 0.78, _shade(weight, top))))
        word_top = max([w for _, w in words] or [1.0])
        x = 0.02
        for word, w in words[:max_words]:
            ax.text(x, row, word, family="monospace", fontsize=8, va="center",
                    bbox=dict(boxstyle="square,pad=0.1", lw=0, color=(1.0, 0.55, 0.0, _shade(w, word_top))))
            x += char * (len(word) + 1)
        if len(words) > max_words:
            ax.text(x, row, "...", family="monospace", fontsize=8, va="center")
    return _save(fig, path)


def document_attention_html(documents, path, title):
    """The same picture as `plot_document_attention`, for several documents,
    as one self-contained HTML page (a sentence's weight in its tooltip)."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}p{margin:.2em 0;padding-left:.5em}"
             "span{padding:0 .1em}</style>", f"<h1>{html.escape(title)}</h1>",
             "<p>Blue bar: the sentence's weight in the document; orange: a word's weight in its sentence.</p>"]
    for index, document in enumerate(documents):
        parts.append(f"<h2>Document {index + 1}: {html.escape(document['label'])} "
                     f"(p={document['probability']:.3f})</h2>")
        top = max([weight for _, weight, _ in document["sentences"]] or [1.0])
        for _, weight, words in document["sentences"]:
            word_top = max([w for _, w in words] or [1.0])
            spans = " ".join(f"<span style='background:rgba(255,140,0,{_shade(w, word_top):.2f})'>"
                             f"{html.escape(word)}</span>" for word, w in words)
            parts.append(f"<p style='border-left:.6em solid rgba(30,90,200,{_shade(weight, top):.2f})' "
                         f"title='sentence weight {weight:.3f}'>{spans}</p>")
    write_text(path, "\n".join(parts) + "\n")
    return os.fspath(path)
