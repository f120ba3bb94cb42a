"""rnnzoo: recurrent neural networks for Keras 3, organized by task topology.

```python
import rnnzoo
model = rnnzoo.build_model("many_to_one", cell="lstm", vocab_size=20000, num_classes=2)
rnnzoo.list_models("*gru*")
rnnzoo.list_cells()
rnnzoo.export(model, "out/tflite", format="tflite", quantize="dynamic")
tagger = rnnzoo.load("saved_models/tagging/RUN")   # any task's preset or run folder, as its class
```
"""

from rnnzoo.utils.backends import missing_backend_package

if missing_backend_package():
    raise ImportError(missing_backend_package())

import rnnzoo.utils.triton_guard  # noqa: E402,F401  (first: triton, if installed, can then load beside TensorFlow)
import rnnzoo.utils.quiet  # noqa: E402,F401  (TensorFlow loads without its C++ start-up lines)
from rnnzoo import layers, metrics  # noqa: F401  (register serializables)
from rnnzoo.cells import list_cells, register_cell
from rnnzoo.decoding import greedy_decode
from rnnzoo.topologies import (
    EncoderDecoder,
    ManyToMany,
    ManyToOne,
    OneToMany,
    build_model,
    list_models,
    list_topologies,
    register_model,
)
from rnnzoo.utils.lazy import lazy_attributes
from rnnzoo.version import __version__

# Export and the tasks import TensorFlow: load them when `rnnzoo.export` or `rnnzoo.load` is first used.
__getattr__, __dir__ = lazy_attributes(__name__, {"rnnzoo.exporting": ["export"], "rnnzoo.tasks.base": ["load"]})

__all__ = [
    "EncoderDecoder", "ManyToMany", "ManyToOne", "OneToMany", "__version__",
    "build_model", "export", "greedy_decode", "list_cells", "load", "list_models", "list_topologies",
    "register_cell", "register_model",
]
