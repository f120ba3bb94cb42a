"""Valid random inputs for any rnnzoo model, read from its inputs and config:
for export parity checks when no real data is given, and for tests."""

import numpy as np


WORD_LENGTH = 5


def example_inputs(model, length, batch_size=3, seed=0, pad_to=None, word_length=WORD_LENGTH, config=None):
    """A dict of input name -> array: token ids in [1, vocab), character ids
    `(batch, words, word_length)` (a tagger's character encoder), segments
    of `word_length` steps `(batch, length, word_length[, features])` (a
    hierarchical model), feature
    sequences, feature vectors or images. Decoder tokens get `length + 2`
    steps so source and target lengths differ. `pad_to` right-pads token
    rows to that length with 0 after a random real length (padding parity);
    padding words get no characters. `config`: the vocabulary sizes' source
    when `model` is not an rnnzoo model (e.g. its `streaming_model()`)."""
    rng = np.random.default_rng(seed)
    config = config or model.get_config()
    inputs = {}
    for tensor in model.inputs:
        name = tensor.name
        if name in ("tokens", "source_tokens", "decoder_tokens"):
            vocab = {"tokens": config.get("vocab_size"), "source_tokens": config.get("source_vocab_size"),
                     "decoder_tokens": config.get("target_vocab_size") or config.get("vocab_size")}[name]
            steps = length + 2 if name == "decoder_tokens" else length
            if len(tensor.shape) == 3:  # segments of steps (a hierarchical model): shorter segments, padded
                inputs[name] = _segments(rng, rng.integers(1, vocab, (batch_size, pad_to or length, word_length)),
                                         length if pad_to else None).astype("int32")
                continue
            values = rng.integers(1, vocab, (batch_size, steps))
            if pad_to is not None:
                padded = np.zeros((batch_size, pad_to), values.dtype)
                for row, real in enumerate(rng.integers(1, min(steps, pad_to) + 1, batch_size)):
                    padded[row, :real] = values[row, :real]
                values = padded
            inputs[name] = values
        elif name in ("characters", "context", "word_starts", "word_ends"):
            continue  # after the tokens, whose padding they follow
        elif name == "features" and len(tensor.shape) == 4:
            inputs[name] = _segments(rng, rng.normal(size=(batch_size, pad_to or length, word_length,
                                                           tensor.shape[-1])), length if pad_to else None)
        elif name in ("features", "source_features") and len(tensor.shape) == 3:
            steps = pad_to or length
            inputs[name] = rng.normal(size=(batch_size, steps, tensor.shape[-1]))
        else:  # a feature vector or an image
            inputs[name] = rng.normal(size=(batch_size, *tensor.shape[1:]))
        inputs[name] = inputs[name].astype("int32" if "int" in tensor.dtype else "float32")
    if "characters" in [tensor.name for tensor in model.inputs]:
        tokens = inputs["tokens"]
        characters = rng.integers(1, config["char_vocab_size"], (*tokens.shape, word_length))
        characters[:, :, rng.integers(1, word_length + 1):] = 0  # shorter words, right-padded
        inputs["characters"] = (characters * (tokens != 0)[..., None]).astype("int32")
    if "context" in [tensor.name for tensor in model.inputs]:
        inputs.update(_context(rng, inputs["tokens"], config["string_embeddings"]["vocab_size"], word_length))
    return inputs


def _context(rng, tokens, vocab_size, word_length):
    """A sentence of characters per row of `tokens` (a separator, then each
    real word's 1 to `word_length` random characters and a separator), and
    each word's first and last position in it: the inputs of contextual
    string embeddings, right-padded with 0."""
    words = (tokens != 0).sum(axis=1)
    lengths = rng.integers(1, word_length + 1, tokens.shape)
    width = 1 + int(((lengths + 1) * (tokens != 0)).sum(axis=1).max())
    context = np.zeros((len(tokens), width), "int32")
    starts, ends = np.zeros(tokens.shape, "int32"), np.zeros(tokens.shape, "int32")
    for row, count in enumerate(words):
        position = 1
        context[row, 0] = 2
        for word in range(count):
            starts[row, word], ends[row, word] = position, position + lengths[row, word] - 1
            context[row, position:position + lengths[row, word]] = rng.integers(3, vocab_size, lengths[row, word])
            context[row, position + lengths[row, word]] = 2
            position += lengths[row, word] + 1
    return {"context": context, "word_starts": starts, "word_ends": ends}


def _segments(rng, values, real_segments):
    """Right-padded segments: each segment keeps a random number of steps
    (at least 1); with `real_segments`, each row keeps a random number of
    segments up to it, the rest padding."""
    batch, segments, steps = values.shape[:3]
    for row in range(batch):
        kept = segments if real_segments is None else int(rng.integers(1, min(real_segments, segments) + 1))
        values[row, kept:] = 0
        for segment in range(kept):
            values[row, segment, int(rng.integers(1, steps + 1)):] = 0
    return values
