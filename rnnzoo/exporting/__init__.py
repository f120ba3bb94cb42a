"""Export: SavedModel and builtin-only TFLite, checked against the Keras model.

```python
report = rnnzoo.export(model, "out/tflite", format="tflite", sequence_length=64, quantize="dynamic")
report["parity"]["max_abs_diff"], report["size_bytes"]
```
"""

from rnnzoo.exporting.example_inputs import example_inputs
from rnnzoo.exporting.exporter import FORMATS, export, load_tflite
from rnnzoo.exporting.tflite import make_interpreter, model_ops, non_builtin_ops, run

__all__ = ["FORMATS", "example_inputs", "export", "load_tflite", "make_interpreter", "model_ops",
           "non_builtin_ops", "run"]
