"""Classification and regression scores on NumPy arrays, via scikit-learn."""

import numpy as np


def token_accuracy(y_true, y_pred, ignore_class=0):
    """Accuracy over labels that are not `ignore_class` (padding)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}.")
    keep = np.ones(y_true.shape, bool) if ignore_class is None else y_true != ignore_class
    if not keep.any():
        raise ValueError("token_accuracy: every label is `ignore_class`; nothing to score.")
    return float((y_true[keep] == y_pred[keep]).mean())


def classification_report(y_true, y_pred, labels=None, label_names=None):
    """Accuracy, micro / macro / weighted precision-recall-F1, per-class
    scores and the confusion matrix (rows: true, columns: predicted)."""
    from sklearn import metrics

    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    labels = sorted(set(y_true) | set(y_pred)) if labels is None else list(labels)
    names = [str(n) for n in (label_names or labels)]
    if len(names) != len(labels):
        raise ValueError(f"{len(names)} label_names for {len(labels)} labels.")
    report = {"accuracy": float(metrics.accuracy_score(y_true, y_pred)), "per_class": {}}
    for average in ("micro", "macro", "weighted"):
        p, r, f, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        report[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    p, r, f, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    for i, name in enumerate(names):
        report["per_class"][name] = {
            "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
            "support": int(support[i]),
        }
    report["confusion_matrix"] = metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    report["labels"] = names
    return report


def mean_absolute_error(y_true, y_pred):
    """scikit-learn's MAE of arrays of any (equal) shape, as a float."""
    from sklearn import metrics

    return float(metrics.mean_absolute_error(*_flat(y_true, y_pred)))


def mean_squared_error(y_true, y_pred):
    """scikit-learn's MSE of arrays of any (equal) shape, as a float."""
    from sklearn import metrics

    return float(metrics.mean_squared_error(*_flat(y_true, y_pred)))


def _flat(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, dtype="float64"), np.asarray(y_pred, dtype="float64")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}.")
    return y_true.reshape(-1), y_pred.reshape(-1)
