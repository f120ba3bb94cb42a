"""Series scaling: per-column z-scoring with the training rows' statistics
(`Standardizer`, saved as `normalization.json`); a forecaster serves it
inside its graph (`rnnzoo.tasks.forecasting.raw_forecaster`)."""

import json

import numpy as np

from rnnzoo.utils.files import write_json


class Standardizer:
    """Per-column z-scoring with the training rows' statistics."""

    def __init__(self, mean, std, columns):
        self.mean, self.std, self.columns = np.asarray(mean, "float32"), np.asarray(std, "float32"), tuple(columns)

    @classmethod
    def fit(cls, values, columns):
        std = values.std(axis=0)
        return cls(values.mean(axis=0), np.where(std > 0, std, 1.0), columns)

    def __call__(self, values):
        return (values - self.mean) / self.std

    def invert(self, values):
        return values * self.std + self.mean

    def save(self, path):
        write_json(path, {"columns": list(self.columns), "mean": self.mean.tolist(), "std": self.std.tolist()})

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            found = json.load(f)
        return cls(found["mean"], found["std"], found["columns"])
