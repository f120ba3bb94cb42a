"""TFLite (LiteRT) conversion restricted to builtin ops, op inspection,
quantization, and an interpreter that prefers `ai-edge-litert`."""

import warnings

import numpy as np
import tensorflow as tf

QUANTIZATIONS = (None, "dynamic", "float16", "int8")
# Full-integer calibration of a recurrent WHILE loop kills the Python process
# (segmentation fault in TF 2.21's calibrator; tensorflow/tensorflow#41305
# reports the same for LSTMs), so int8 is calibrated on loop-free models only
# (the exporter unrolls the loops first).
INT8_NEEDS_NO_LOOP = ("quantize='int8' calibration crashes TensorFlow 2.21's TFLite calibrator on "
                      "recurrent WHILE loops (segmentation fault), and this model still has one; "
                      "rnnzoo.export unrolls the loops when sequence_length (and word_length) are fixed.")


def has_loop(model_content):
    return "WHILE" in model_ops(model_content)


def convert(saved_model_dir, signature_key, quantize=None, representative_data=None, allow_flex=False,
            loop_free=False):
    """Bytes of a TFLite model converted from one SavedModel signature.

    quantize: None (float32), "dynamic" (int8 weights, float activations),
        "float16" (float16 weights), "int8" (int8 weights and activations
        calibrated on `representative_data`, a list of input dicts; refused
        for a model with a WHILE loop, see INT8_NEEDS_NO_LOOP).
    allow_flex: also allow select-TF (Flex) ops; they need the Flex delegate
        at run time, so by default any Flex or custom op is refused.
    loop_free: the caller has checked that the float model has no WHILE
        loop (int8 then skips converting it once more to check).
    """
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {QUANTIZATIONS}, got {quantize!r}.")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[signature_key])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if allow_flex:
        converter.target_spec.supported_ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        if not loop_free and has_loop(convert(saved_model_dir, signature_key, allow_flex=allow_flex)):
            raise ValueError(INT8_NEEDS_NO_LOOP)
        if not representative_data:
            raise ValueError("quantize='int8' needs representative_data (a few input batches from training).")

        def representative_dataset():
            for inputs in representative_data:
                yield {name: np.asarray(value) for name, value in inputs.items()}

        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops.insert(0, tf.lite.OpsSet.TFLITE_BUILTINS_INT8)
    try:
        return converter.convert()
    except Exception as error:  # the converter raises ConverterError with the op list
        raise ValueError(
            "TFLite conversion with builtin ops only failed; the model needs ops LiteRT lacks. "
            f"Converter said: {str(error).strip().splitlines()[-1][:500]}"
        ) from error


def interpreter_name():
    """Which interpreter runs and checks TFLite files here: LiteRT's
    (`ai-edge-litert`, a dependency wherever it has a wheel), else
    TensorFlow's deprecated `tf.lite.Interpreter`."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return f"tf.lite.Interpreter (TensorFlow {tf.__version__})"
    from importlib.metadata import version

    return f"LiteRT (ai-edge-litert {version('ai-edge-litert')})"


def make_interpreter(model_content, default_delegates=True):
    """`ai_edge_litert` when installed, else TensorFlow's interpreter
    (`interpreter_name`). `default_delegates=False` runs the reference
    kernels without XNNPACK."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        Interpreter, OpResolverType = tf.lite.Interpreter, tf.lite.experimental.OpResolverType
    options = {} if default_delegates else {
        "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        return Interpreter(model_content=model_content, **options)


def signature_runner(model_content, signature_key):
    """A function `inputs dict -> outputs dict of arrays` for one signature.
    Each call starts from fresh recurrent states: TFLite's fused LSTM keeps
    its states in variable tensors that outlive an invocation (see
    `fused_lstm`), so they are reset after each call. XNNPACK (the default CPU
    delegate) refuses some int8 graphs when it prepares them ("failed to
    create XNNPACK runtime"); those run on the builtin kernels instead."""
    interpreter = make_interpreter(model_content)
    runner = interpreter.get_signature_runner(signature_key)

    def run_signature(inputs):
        nonlocal interpreter, runner
        try:
            outputs = runner(**inputs)
        except RuntimeError as error:
            if "XNNPACK" not in str(error):
                raise
            interpreter = make_interpreter(model_content, default_delegates=False)
            runner = interpreter.get_signature_runner(signature_key)
            outputs = runner(**inputs)
        interpreter.reset_all_variables()  # the next call starts from zero states
        return {name: np.asarray(value) for name, value in outputs.items()}

    return run_signature


def model_ops(model_content):
    """Sorted names of the ops in a TFLite model."""
    interpreter = make_interpreter(model_content)
    return sorted({op["op_name"] for op in interpreter._get_ops_details()})


def non_builtin_ops(ops):
    """Flex (select-TF) and custom ops: those a plain LiteRT runtime lacks."""
    return [op for op in ops if op.startswith("Flex") or op == "CUSTOM" or op.startswith("Custom")]


def check_builtin_only(ops, allow_flex=False):
    """Raise when `ops` hold Flex or custom ops, unless `allow_flex`; returns them."""
    refused = non_builtin_ops(ops)
    if refused and not allow_flex:
        raise ValueError(f"the TFLite model holds non-builtin ops {refused}, which a plain LiteRT runtime "
                         "lacks; export with a fixed sequence_length, or pass allow_flex=True to accept them.")
    return refused


def run(model_content, inputs, signature_key):
    """Outputs {name: array} of one signature on one batch of inputs."""
    return signature_runner(model_content, signature_key)(inputs)
