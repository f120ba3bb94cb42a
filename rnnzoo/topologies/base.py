import keras


class RNNModel(keras.Model):
    """Base of every rnnzoo topology: a functional `keras.Model` subclass.

    Subclasses build their graph in `__init__` (keras-hub style), pass it here
    together with their constructor arguments, and say which loss and metrics
    fit their outputs. The model compiles itself with those defaults unless
    `compile=False`; calling `compile(...)` again overrides any of them.
    `get_config()` returns exactly the constructor arguments, so `.keras`
    files reload through `from_config` with `safe_mode=True`.
    """

    def __init__(self, *, inputs, outputs, config, compile=True, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # A plain dict of constructor arguments (JSON-friendly values only).
        self._rnnzoo_config = dict(config)
        if compile:
            self.compile()

    def default_loss(self):
        raise NotImplementedError

    def default_metrics(self):
        raise NotImplementedError

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """`"auto"` picks: Adam (learning rate 1e-3, each gradient clipped to
        norm 1.0, which keeps recurrent training stable), the loss that
        matches the outputs (logits unless an activation was asked for) and
        masked accuracy (or MAE for regression)."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)
        if loss == "auto":
            loss = self.default_loss()
        if metrics == "auto":
            metrics = self.default_metrics()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras skips this for models that override `compile`; ours accepts
        # the saved arguments as they are, so restore them (and build the
        # optimizer so its saved variables load).
        config = keras.saving.deserialize_keras_object(_portable_optimizer(config))
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def get_compile_config(self):
        return _portable_optimizer(super().get_compile_config())

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._rnnzoo_config}


def _portable_optimizer(compile_config):
    """The compile config with the optimizer under its public `keras.optimizers`
    name. On the torch backend Keras records the optimizer's backend class
    (`keras.src.backend.torch.optimizers.torch_adam.Adam`), which a TensorFlow
    or JAX process then imports and cannot train with ("expected Tensor ...
    got ResourceVariable"); the public name builds each backend's own class.
    Also mends files saved that way before."""
    optimizer = (compile_config or {}).get("optimizer")
    if isinstance(optimizer, dict) and str(optimizer.get("module", "")).startswith("keras.src.backend."):
        compile_config = dict(compile_config, optimizer=dict(optimizer, module="keras.optimizers"))
    return compile_config


def constructor_arguments(local_variables):
    """The constructor arguments from `locals()` at the top of `__init__`,
    minus `self`, `compile` and `**kwargs` (which go to `keras.Model`)."""
    skipped = {"self", "kwargs", "compile", "__class__"}
    return {k: v for k, v in local_variables.items() if k not in skipped}
