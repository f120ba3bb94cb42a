"""Whether a TFLite model's ops are in TensorFlow Lite Micro's builtin op
resolver (`MicroMutableOpResolver`), so it can run on a microcontroller.

The list is data, copied from the `Add*` builtins of tflite-micro's
`tensorflow/lite/micro/micro_mutable_op_resolver.h` (the 2025 version, the
one with `AddBatchMatMul`, `AddEmbeddingLookup`, `AddReverseV2`). It checks op
names only: TFLM kernels support fewer types and options than LiteRT's
(most take float32 and int8), so a model that passes still needs a run on the
device. Update the list from that header when TFLM adds kernels.
"""

from rnnzoo.exporting.tflite import model_ops

MICRO_BUILTIN_OPS = frozenset("""
ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL BATCH_TO_SPACE_ND BROADCAST_ARGS
BROADCAST_TO CALL_ONCE CAST CEIL CONCATENATION CONV_2D COS CUMSUM DEPTH_TO_SPACE DEPTHWISE_CONV_2D DEQUANTIZE DIV
EMBEDDING_LOOKUP ELU EQUAL EXP EXPAND_DIMS FILL FLOOR FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER GATHER_ND GREATER
GREATER_EQUAL HARD_SWISH IF L2_NORMALIZATION L2_POOL_2D LEAKY_RELU LESS LESS_EQUAL LOG LOGICAL_AND LOGICAL_NOT
LOGICAL_OR LOGISTIC LOG_SOFTMAX MAXIMUM MAX_POOL_2D MIRROR_PAD MEAN MINIMUM MUL NEG NOT_EQUAL PACK PAD PADV2 PRELU
QUANTIZE READ_VARIABLE REDUCE_MAX REDUCE_MIN RELU RELU6 RESHAPE RESIZE_BILINEAR RESIZE_NEAREST_NEIGHBOR REVERSE_V2
ROUND RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX SPACE_TO_BATCH_ND SPACE_TO_DEPTH SPLIT SPLIT_V SQUEEZE SQRT SQUARE
SQUARED_DIFFERENCE STRIDED_SLICE SUB SUM SVDF TANH TRANSPOSE_CONV TRANSPOSE UNPACK UNIDIRECTIONAL_SEQUENCE_LSTM
VAR_HANDLE WHILE ZEROS_LIKE
""".split())


def micro_check(model_content):
    """{"ops": {op: in TFLM's resolver}, "unsupported": [...], "micro_ready": bool}
    for the bytes of a TFLite model."""
    ops = {op: op in MICRO_BUILTIN_OPS for op in model_ops(model_content)}
    unsupported = [op for op, supported in ops.items() if not supported]
    return {"ops": ops, "unsupported": unsupported, "micro_ready": not unsupported}
