"""A SavedModel is code: loading one and calling its signature runs whatever
graph it holds, and a graph can read and write files (`ReadFile`,
`WriteFile`, `SaveV2`), reach the network, or call back into Python
(`PyFunc`). Before rnnzoo loads a run folder's SavedModel (`rnnzoo predict`,
`rnnzoo evaluate`), `check_saved_model` reads its graph without running it
and refuses any op that is not on `ALLOWED_OPS`, the ops of tensor math,
control flow, variables, lookup tables built from constants, strings and
text that rnnzoo's own exports are made of. `trust=True` (`--trust`) skips
the check for a folder the user vouches for.

```python
check_saved_model("saved_models/sentiment/RUN/saved_model")  # raises UntrustedGraphError, or returns the ops
```

The functions a loaded model can run are those its object graph names (the
signatures, resource initializers and destroyers) and those they call. The
SavedModel's own save and restore functions (`SaveV2`, `RestoreV2`, ...), which
TF1's loader runs and TF2's does not, may hold those file ops and nothing
else outside the list; anything they call is checked like the rest.
"""

import os

# Ops rnnzoo's exports use (every cell in every topology, every task's raw-input signature; collected with
# `graph_ops` over those exports) and their close kin: element-wise and reduction math, shapes, control flow,
# resource variables, random numbers, tensor lists and arrays, lookup tables filled from constants, strings
# and tensorflow-text's tokenizers, signal and image ops, CTC decoding, cuDNN's recurrent kernels (a model
# exported on a GPU). None reads or writes a file, opens a connection, or calls Python.
ALLOWED_OPS = frozenset("""
Abs Acos Acosh AddN AddV2 All Any ApproximateEqual ArgMax ArgMin Asin Asinh Assert AssignAddVariableOp
AssignSubVariableOp AssignVariableOp Atan Atan2 Atanh AvgPool BatchMatMul BatchMatMulV2 BatchMatMulV3 BiasAdd Bitcast
BitwiseAnd BitwiseOr BitwiseXor BroadcastArgs BroadcastGradientArgs BroadcastTo Bucketize Cast Ceil CheckNumerics
ClipByValue Complex ComplexAbs ConcatV2 Const Conv2D Conv3D Cos Cosh Cumprod Cumsum DenseBincount
DepthwiseConv2dNative DestroyResourceOp DisableCopyOnRead Div DivNoNan Einsum Elu EmptyTensorList EnsureShape Equal
Erf Erfc Exp ExpandDims Expm1 Fill Floor FloorDiv FloorMod GatherNd GatherV2 Greater GreaterEqual IRFFT Identity
IdentityN If Imag InvertPermutation IsFinite IsInf IsNan L2Loss LeakyRelu LeftShift Less LessEqual Lgamma LinSpace
Log Log1p LogSoftmax LogicalAnd LogicalNot LogicalOr MatMul MatrixBandPart MatrixDiagPartV3 MatrixDiagV3
MatrixSetDiagV3 MatrixTriangularSolve Max MaxPool Maximum Mean Min Minimum MirrorPad Mod Mul MulNoNan Multinomial Neg
NoOp NotEqual OneHot OnesLike Pack Pad PadV2 PartitionedCall Placeholder PlaceholderWithDefault Pow Prod RFFT Range
Rank ReadVariableOp Real RealDiv Reciprocal Relu Relu6 Reshape ResizeBilinear ResizeNearestNeighbor ReverseV2
RightShift Round Rsqrt ScatterNd Select SelectV2 Selu Shape ShapeN Sigmoid Sign Sin Sinh Size Slice Snapshot Softmax
Softplus Softsign SparseToDense Split SplitV Sqrt Square SquaredDifference Squeeze StatefulPartitionedCall StatelessIf
StatelessCase StatelessMultinomial StatelessRandomGetKeyCounter StatelessRandomGetKeyCounterAlg
StatelessRandomNormalV2 StatelessRandomUniformFullIntV2 StatelessRandomUniformIntV2 StatelessRandomUniformV2
StatelessTruncatedNormalV2 StatelessWhile StopGradient StridedSlice Sub Sum Tan Tanh TensorScatterUpdate Tile TopKV2
Transpose TruncateDiv Unpack UnsortedSegmentMax UnsortedSegmentSum VarHandleOp VarIsInitializedOp Where While
Xlog1py Xlogy ZerosLike Case
RandomStandardNormal RandomUniform RandomUniformInt TruncatedNormal
TensorListConcatV2 TensorListElementShape TensorListFromTensor TensorListGetItem TensorListLength
TensorListPopBack TensorListPushBack TensorListReserve TensorListResize TensorListSetItem TensorListStack
TensorArrayCloseV3 TensorArrayGatherV3 TensorArrayReadV3 TensorArrayScatterV3 TensorArraySizeV3 TensorArrayV3
TensorArrayWriteV3
HashTableV2 InitializeTableV2 LookupTableFindV2 LookupTableImportV2 LookupTableSizeV2 MutableHashTableV2
AsString ReduceJoin RegexFullMatch RegexReplace StaticRegexFullMatch StaticRegexReplace StringJoin StringLength
StringLower StringSplitV2 StringStrip StringToHashBucketFast StringToNumber StringUpper Substr UnicodeDecode
UnicodeDecodeWithOffsets UnicodeEncode UnicodeTranscode UnsortedSegmentJoin
RaggedGather RaggedRange RaggedTensorFromVariant RaggedTensorToSparse RaggedTensorToTensor RaggedTensorToVariant
CaseFoldUTF8 FastWordpieceDetokenize FastWordpieceTokenizeWithOffsets NormalizeUTF8 NormalizeUTF8WithOffsetsMap
RegexSplitWithOffsets TFText>WhitespaceTokenizeWithOffsetsV2 UnicodeScriptTokenizeWithOffsets
WhitespaceTokenizeWithOffsets WordpieceTokenizeWithOffsets
CTCBeamSearchDecoder CTCGreedyDecoder
CudnnRNN CudnnRNNV2 CudnnRNNV3
""".split())

# What TF1's loader runs to save and restore variables (TF2's does not): allowed in those functions alone.
SAVER_OPS = frozenset("MergeV2Checkpoints RestoreV2 SaveV2 ShardedFilename".split())

# Named in the refusal when met, to say why it matters; the check itself is the allow-list.
_KNOWN_RISKS = {
    "ReadFile": "reads a file", "WriteFile": "writes a file", "MatchingFiles": "lists files",
    "SaveV2": "writes files", "RestoreV2": "reads files", "Save": "writes files", "SaveSlices": "writes files",
    "MergeV2Checkpoints": "moves and deletes files", "DeleteFile": "deletes a file",
    "InitializeTableFromTextFileV2": "reads a file", "ImmutableConst": "maps a file into memory",
    "PyFunc": "runs Python code", "EagerPyFunc": "runs Python code", "PyFuncStateless": "runs Python code",
    "PrintV2": "can write to a file", "RemoteCall": "runs a function on another machine",
}


class UntrustedGraphError(ValueError):
    """A SavedModel's graph holds an op rnnzoo does not run unasked."""


def _read_saved_model(folder):
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    binary, text = os.path.join(folder, "saved_model.pb"), os.path.join(folder, "saved_model.pbtxt")
    try:
        if os.path.isfile(binary):
            with open(binary, "rb") as f:
                saved_model.ParseFromString(f.read())
        elif os.path.isfile(text):
            from google.protobuf import text_format

            with open(text, encoding="utf-8") as f:
                text_format.Parse(f.read(), saved_model)
        else:
            raise FileNotFoundError(f"{folder}: no SavedModel here (no saved_model.pb).")
    except (UnicodeDecodeError, ValueError, RuntimeError) as error:  # protobuf's DecodeError is a ValueError
        raise ValueError(f"{folder}: not a readable SavedModel ({type(error).__name__}).") from None
    if not saved_model.meta_graphs:
        raise ValueError(f"{folder}: the SavedModel holds no graph.")
    return saved_model


def _called(node, functions):
    """Names of the library functions a node calls (as its op, or in its attributes)."""
    names = {node.op} & functions.keys()
    for value in node.attr.values():
        if value.func.name:
            names.add(value.func.name)
        names.update(f.name for f in value.list.func)
    return names


def graph_ops(folder):
    """`{where: set of ops}` of a SavedModel: `"graph"` (the top-level graph)
    and each library function, without running anything; plus the set of
    functions a TF2 load can run (`"reachable"`)."""
    found = {}
    roots = set()
    for meta_graph in _read_saved_model(folder).meta_graphs:
        graph = meta_graph.graph_def
        functions = {f.signature.name: f for f in graph.library.function}
        found.setdefault("graph", set()).update(node.op for node in graph.node)
        for name, function in functions.items():
            found.setdefault(name, set()).update(node.op for node in function.node_def)
        pending = [name for name in meta_graph.object_graph_def.concrete_functions if name in functions]
        while pending:
            name = pending.pop()
            if name in roots:
                continue
            roots.add(name)
            for node in functions[name].node_def:
                pending.extend(_called(node, functions) - roots)
    return found, roots


def check_saved_model(folder, trust=False):
    """Refuse (`UntrustedGraphError`, one line naming the op and the
    function) a SavedModel whose graph holds an op outside `ALLOWED_OPS`,
    unless `trust`. Returns the set of ops found (None when trusted)."""
    if trust:
        return None
    found, reachable = graph_ops(folder)
    for where in sorted(found):
        allowed = ALLOWED_OPS if where in reachable else ALLOWED_OPS | SAVER_OPS
        for op in sorted(found[where] - allowed):
            why = _KNOWN_RISKS.get(op, "is not among the ops rnnzoo's own exports use")
            place = "the top-level graph" if where == "graph" else f"function {where}"
            raise UntrustedGraphError(
                f"{folder}: refused to load: op {op} ({why}) in {place}. A SavedModel is code; pass --trust "
                "(trust=True) only if you trust where it comes from.")
    return set().union(*found.values())
