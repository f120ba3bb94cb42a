"""Tasks: what a user holds after training. A task reads its data files,
scores predictions with its field's metric, and serves a finished run folder
(`saved_models/<recipe>/<run>/`): `rnnzoo predict`, `rnnzoo evaluate` and
`rnnzoo export` work here. This floor sits above `training/` and
`exporting/` (which never import each other) and is what recipes build on:
`recipe.py` holds the steps every recipe takes, in order.

```python
from rnnzoo.tasks import TextClassifier
classifier = TextClassifier.from_examples(texts, labels, units=64)
classifier.fit(texts, labels, epochs=3)
classifier.predict(["A gripping, funny film."])   # [("1", 0.93)]
```
"""

from rnnzoo.utils.lazy import lazy_attributes

# Each task module imports TensorFlow: load it on first use.
__getattr__, __dir__ = lazy_attributes(__name__, {"rnnzoo.tasks.text_classification": ["TextClassifier"]})

__all__ = ["TextClassifier"]
