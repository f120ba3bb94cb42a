"""Data-parallel training on the engines that exist: `tf.distribute` on the
TensorFlow backend, `keras.distribution.DataParallel` on JAX.

```python
distribution = get_distribution("mirrored")   # once, before any TensorFlow op
with distribution.scope():
    model = rnnzoo.build_model(...)
    model.compile(...)
distribution.prepare(model)  # works around Keras bugs under multiworker
model.fit(batches)  # `batches` hold the *global* batch; each replica gets a slice
```

- `none`: one device (TensorFlow's default strategy).
- `mirrored`: every GPU of this machine (every logical CPU device when it
  has no GPU); gradients are summed across replicas after each step.
- `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy`, configured by
  the `TF_CONFIG` environment variable (a cluster of workers, this worker's
  index). On JAX, `keras.distribution.initialize()` reads
  `KERAS_DISTRIBUTION_JOB_ADDRESSES`, `KERAS_DISTRIBUTION_NUM_PROCESSES` and
  `KERAS_DISTRIBUTION_PROCESS_ID` instead.

`cpu_devices=N` splits the CPU into N logical devices (TensorFlow) or N host
devices (JAX), so that replication can be tried and tested without GPUs.
It must happen before TensorFlow or JAX touch a device, which is why the
distribution is made once per process and cached.
"""

import contextlib
import json
import os

import keras

CHOICES = ("none", "mirrored", "multiworker")


class Distribution:
    """How training is spread: `scope()` is where models are built, compiled
    and loaded for training; `is_chief` says whether this process writes the
    run folder (other workers of a cluster write to a scratch folder)."""

    def __init__(self, name, strategy=None, num_replicas=1, is_chief=True):
        self.name, self.strategy = name, strategy
        self.num_replicas, self.is_chief = num_replicas, is_chief

    def scope(self):
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def prepare(self, model):
        """Make `model` (built in `scope()`) ready for `fit` and `evaluate`.

        Under `MultiWorkerMirroredStrategy`, Keras 3.15's TensorFlow trainer
        fails twice (keras-team/keras#20585), and this works around both on
        this model only:
        - it builds the model from a first batch averaged over replicas
          with `strategy.reduce` on the whole `(x, y)` structure, which the
          strategy refuses ("Attempt to convert a value (PerReplica ...)").
          Only shapes matter there, so the local replica's slice is used.
        - it averages each step's scalar logs with `strategy.reduce("MEAN",
          value, axis=0)`, which fails on a 0-d value ("Invalid reduction
          dimension 0"). The step's logs are given one axis of length 1.
        """
        if self.name != "multiworker" or self.strategy is None:
            return model
        import tensorflow as tf
        from keras import tree

        strategy = self.strategy

        def local_slice(value):
            if isinstance(value, tf.distribute.DistributedValues):
                return strategy.experimental_local_results(value)[0]
            return value

        def symbolic_build(iterator=None, data_batch=None):
            if iterator is not None:
                for _, _, batches in iterator:
                    data_batch = tree.map_structure(local_slice, next(batches))
                    break
            with strategy.scope():
                model._symbolic_build(data_batch=data_batch)

        def with_axis(step):
            def step_with_axis(data):
                return tree.map_structure(lambda value: tf.reshape(value, [-1]), step(data))
            return step_with_axis

        model._maybe_symbolic_build = symbolic_build
        model.train_step = with_axis(model.train_step)
        model.test_step = with_axis(model.test_step)
        return model

    def __repr__(self):
        return f"Distribution({self.name!r}, replicas={self.num_replicas}, chief={self.is_chief})"


_CACHE = {}


def get_distribution(name="none", cpu_devices=None):
    """The process's `Distribution` for `name` (made on the first call)."""
    if name not in CHOICES:
        raise ValueError(f"distribute={name!r}: expected one of {', '.join(CHOICES)}.")
    if cpu_devices is not None and cpu_devices < 1:
        raise ValueError(f"cpu_devices must be >= 1, got {cpu_devices}.")
    backend = keras.backend.backend()
    if name == "multiworker" and backend == "tensorflow":
        _cluster_task()
    key = (name, cpu_devices)
    if key not in _CACHE:
        if _CACHE:
            made = next(iter(_CACHE))
            raise RuntimeError(f"this process already trains with distribute={made[0]!r}, cpu_devices={made[1]}; "
                               "a process can only set up one distribution.")
        if backend == "tensorflow":
            _CACHE[key] = _tensorflow(name, cpu_devices)
        elif backend == "jax":
            _CACHE[key] = _jax(name, cpu_devices)
        elif name == "none":
            _CACHE[key] = Distribution("none")
        else:
            raise ValueError(f"distribute={name!r} needs the tensorflow or jax backend, not {backend}.")
    return _CACHE[key]


def _tensorflow(name, cpu_devices):
    import tensorflow as tf

    if cpu_devices:
        cpus = tf.config.list_physical_devices("CPU")
        try:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration()] * cpu_devices)
        except RuntimeError as error:
            raise RuntimeError(f"cpu_devices={cpu_devices}: TensorFlow is already initialized in this "
                               f"process ({error}); set it before any model or tensor is made.") from None
    if name == "none":
        return Distribution("none")
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        devices = devices or [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices)
        return Distribution(name, strategy, strategy.num_replicas_in_sync)
    task, cluster = _cluster_task()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    # The chief, or worker 0 of a cluster without one, writes the run.
    is_chief = task.get("type") == "chief" or (task.get("type") == "worker" and task.get("index") == 0
                                               and "chief" not in cluster)
    return Distribution(name, strategy, strategy.num_replicas_in_sync, is_chief)


def _cluster_task():
    """`(task, cluster)` from `TF_CONFIG`, with clear errors."""
    config = os.environ.get("TF_CONFIG")
    if not config:
        raise ValueError("distribute='multiworker' reads the cluster from the TF_CONFIG environment variable, "
                         "which is not set; see the README section 'Training on several devices'.")
    try:
        config = json.loads(config)
        task, cluster = config["task"], config["cluster"]
        if not isinstance(task, dict) or not isinstance(cluster, dict):
            raise TypeError("'task' and 'cluster' must be objects")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"TF_CONFIG must be a JSON object with 'cluster' and 'task' objects ({error!r}).") from None
    return task, cluster


def _jax(name, cpu_devices):
    if cpu_devices:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={cpu_devices}".strip()
    if name == "none":
        return Distribution("none")
    import jax

    if name == "multiworker":
        keras.distribution.initialize()
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return Distribution(name, None, len(devices), is_chief=jax.process_index() == 0)
