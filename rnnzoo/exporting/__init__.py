"""Export: SavedModel and builtin-only TFLite (LSTMs as TFLite's fused kernel),
checked against the Keras model; which ops TFLite Micro lacks.

```python
report = rnnzoo.export(model, "out/tflite", format="tflite", sequence_length=64, quantize="dynamic")
report["parity"]["max_abs_diff"], report["size_bytes"]
```
"""

from rnnzoo.exporting.example_inputs import example_inputs
from rnnzoo.exporting.exporter import FORMATS, export, load_tflite
from rnnzoo.exporting.micro import micro_check
from rnnzoo.exporting.tflite import make_interpreter, model_ops, non_builtin_ops, run, signature_runner

__all__ = ["FORMATS", "example_inputs", "export", "load_tflite", "make_interpreter", "micro_check", "model_ops",
           "non_builtin_ops", "run", "signature_runner"]
