"""Decoding for the sequence generators (`one_to_many`, `encoder_decoder`):
batched greedy and beam search, each one compiled loop (`keras.ops.while_loop`,
a `tf.while_loop` inside one `tf.function` on TensorFlow, `lax.while_loop` on
JAX), with no Python loop per token and no `predict` call per step.

Two levels:

- `greedy_search(step_fn, ...)` / `beam_search(step_fn, ...)` decode any
  step function `step_fn(tokens, state, context) -> (logits, state)`:
  `tokens` `(batch, 1)` int32, `state` a dict of `(batch, ...)` tensors that
  the step updates (beam search reorders it when beams swap), `context` a
  dict of `(batch, ...)` tensors it only reads (an encoder memory).
- `decode(model, inputs, ...)` (also `model.generate(...)` and
  `greedy_decode`) runs them on a `SequenceGenerator` through its
  `inference_models()`; the compiled function is built once per model and
  setting and reused.

```python
ids = model.generate(source_ids, max_length=50)                  # greedy
ids = model.generate(source_ids, max_length=50, beam_size=5, length_penalty=0.6)
```
"""

import weakref

import keras
import numpy as np
from keras import ops

from rnnzoo.data import END_ID, PAD_ID, START_ID

NEG_INF = -1e9  # "impossible" score: finite, so sums and softmax stay finite


def _check(max_length, beam_size=1, length_penalty=0.0):
    if not isinstance(max_length, (int, np.integer)) or max_length < 1:
        raise ValueError(f"`max_length` must be an integer >= 1, got {max_length!r}.")
    if not isinstance(beam_size, (int, np.integer)) or beam_size < 1:
        raise ValueError(f"`beam_size` must be an integer >= 1, got {beam_size!r}.")
    if not length_penalty >= 0.0:
        raise ValueError(f"`length_penalty` must be >= 0, got {length_penalty!r}.")


def _write(buffer, position, tokens):
    """`buffer[..., position] = tokens` without a scatter (any backend)."""
    steps = ops.arange(ops.shape(buffer)[-1], dtype="int32")
    return ops.where(steps == position, ops.expand_dims(tokens, -1), buffer)


def _forbid_padding(logits, forbidden=(PAD_ID,)):
    """Logits with the `forbidden` ids made impossible."""
    vocab = ops.shape(logits)[-1]
    ids = ops.arange(vocab, dtype="int32")
    banned = ops.zeros_like(ids, dtype="bool")
    for token in forbidden:
        banned = ops.logical_or(banned, ids == token)
    return ops.where(banned, ops.cast(NEG_INF, logits.dtype), logits)


def greedy_search(step_fn, state, context, batch_size, *, max_length, start_id=START_ID, end_id=END_ID):
    """Batched greedy decoding in one `while_loop`.

    Returns `(ids, steps)`: `ids` int32 `(batch, max_length)`, `steps` the
    number of steps taken (the loop stops once every row has emitted
    `end_id`; `end_id=None` never stops early). A row's ids after its end
    token, and all ids at positions `>= steps`, are `PAD_ID`; padding itself
    is never emitted.
    """
    _check(max_length)
    tokens = ops.full((batch_size, 1), start_id, dtype="int32")
    finished = ops.zeros((batch_size,), dtype="bool")
    ids = ops.zeros((batch_size, max_length), dtype="int32")

    def cond(i, tokens, state, finished, ids):
        return ops.logical_and(i < max_length, ops.logical_not(ops.all(finished)))

    def body(i, tokens, state, finished, ids):
        logits, state = step_fn(tokens, state, context)
        next_tokens = ops.cast(ops.argmax(_forbid_padding(logits), axis=-1), "int32")
        next_tokens = ops.where(finished, PAD_ID, next_tokens)
        if end_id is not None:
            finished = ops.logical_or(finished, next_tokens == end_id)
        return i + 1, next_tokens[:, None], state, finished, _write(ids, i, next_tokens)

    steps, _, _, _, ids = ops.while_loop(
        cond, body, (ops.convert_to_tensor(0, dtype="int32"), tokens, state, finished, ids)
    )
    return ids, steps


def _length_penalty(lengths, alpha):
    """GNMT's `((5 + length) / 6) ** alpha` (Wu et al. 2016); 1 when alpha is 0."""
    if alpha == 0.0:
        return ops.ones_like(ops.cast(lengths, "float32"))
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, alpha)


def _tile(tensor, beam_size):
    """`(batch, ...)` -> `(batch * beam, ...)`, each row repeated in place."""
    return ops.repeat(tensor, beam_size, axis=0)


def beam_search(step_fn, state, context, batch_size, *, beam_size, max_length, length_penalty=0.0,
                start_id=START_ID, end_id=END_ID):
    """Batched beam search in one `while_loop`.

    Each row keeps `beam_size` hypotheses ranked by `log p / lp(length)` with
    GNMT's length penalty `lp` (`length_penalty=0` ranks by log-probability).
    A hypothesis that emits `end_id` is finished: it keeps its score and its
    place, competing with the live ones. The loop stops after `max_length`
    steps, or as soon as no live hypothesis of any row can still overtake
    that row's best finished one: a live score only falls as tokens are
    added, so its best possible ranking score is `log p / lp(max_length)`
    (an exact test, not a heuristic: the best hypothesis is the one running
    to `max_length` would return).

    Returns `(ids, scores, steps)`: `ids` int32 `(batch, beam, max_length)`,
    best first, `PAD_ID` after each end token; `scores` `(batch, beam)` their
    ranking scores; `steps` the number of steps taken. With `beam_size=1`
    this is greedy decoding.
    """
    _check(max_length, beam_size, length_penalty)
    k = beam_size
    state = {name: _tile(value, k) for name, value in state.items()}
    context = {name: _tile(value, k) for name, value in context.items()}
    # Only the first beam of each row is alive at the start (the others would duplicate it).
    first = ops.arange(k, dtype="int32") == 0
    scores = ops.where(first, 0.0, NEG_INF)[None, :] + ops.zeros((batch_size, 1))
    lengths = ops.zeros((batch_size, k), dtype="int32")
    finished = ops.zeros((batch_size, k), dtype="bool")
    ids = ops.zeros((batch_size, k, max_length), dtype="int32")
    tokens = ops.full((batch_size * k, 1), start_id, dtype="int32")

    most_penalized = _length_penalty(ops.convert_to_tensor(max_length), length_penalty)

    def cond(i, tokens, state, scores, lengths, finished, ids):
        ranked = scores / _length_penalty(lengths, length_penalty)
        best_finished = ops.max(ops.where(finished, ranked, 2 * NEG_INF), axis=1)
        best_possible = ops.max(ops.where(finished, 2 * NEG_INF, scores / most_penalized), axis=1)
        undecided = ops.any(best_possible > best_finished)
        return ops.logical_and(i < max_length, undecided)

    def body(i, tokens, state, scores, lengths, finished, ids):
        logits, state = step_fn(tokens, state, context)
        vocab = ops.shape(logits)[-1]
        log_probs = ops.log_softmax(ops.cast(_forbid_padding(logits), "float32"), axis=-1)
        log_probs = ops.reshape(log_probs, (-1, k, vocab))
        # A finished hypothesis continues only with padding, at no cost.
        pad_only = ops.where(ops.arange(vocab, dtype="int32") == PAD_ID, 0.0, NEG_INF)
        log_probs = ops.where(finished[..., None], pad_only, log_probs)
        candidates = scores[..., None] + log_probs                        # (batch, k, vocab)
        candidate_lengths = ops.where(finished, lengths, i + 1)           # (batch, k)
        ranks = candidates / _length_penalty(candidate_lengths, length_penalty)[..., None]
        _, flat = ops.top_k(ops.reshape(ranks, (-1, k * vocab)), k)       # sorted, best first
        flat = ops.cast(flat, "int32")
        beams, next_tokens = flat // vocab, flat % vocab
        scores = ops.take_along_axis(ops.reshape(candidates, (-1, k * vocab)), flat, axis=1)
        lengths = ops.take_along_axis(candidate_lengths, beams, axis=1)
        finished = ops.take_along_axis(finished, beams, axis=1)
        ids = ops.take_along_axis(ids, beams[..., None], axis=1)
        ids = _write(ids, i, ops.where(finished, PAD_ID, next_tokens))
        if end_id is not None:
            finished = ops.logical_or(finished, next_tokens == end_id)
        offsets = ops.arange(ops.shape(beams)[0], dtype="int32")[:, None] * k
        rows = ops.reshape(beams + offsets, (-1,))  # (batch * k,) rows of the tiled state
        state = {name: ops.take(value, rows, axis=0) for name, value in state.items()}
        return i + 1, ops.reshape(next_tokens, (-1, 1)), state, scores, lengths, finished, ids

    loop_vars = (ops.convert_to_tensor(0, dtype="int32"), tokens, state, scores, lengths, finished, ids)
    steps, _, _, scores, lengths, _, ids = ops.while_loop(cond, body, loop_vars)
    return ids, scores / _length_penalty(lengths, length_penalty), steps


def sample(step_fn, state, context, prompt, *, max_length, temperature=1.0, top_k=0, seed=0, end_id=None,
           forbidden=(PAD_ID,)):
    """Sampling from a prompt in one `while_loop` (language models).

    The prompt `(batch, prompt_length)` int32 ids (at least one; the length
    may be unknown when traced on TensorFlow) is fed
    first, then `max_length` tokens are drawn from `softmax(logits /
    temperature)`, restricted to the `top_k` most likely (0: all). The
    `forbidden` ids (padding, by default) are never drawn. The draw is the Gumbel-max trick on noise drawn up front
    from `seed`, so it is repeatable on every backend.
    Returns the drawn ids `(batch, max_length)` (`PAD_ID` after `end_id`).
    """
    _check(max_length)
    if not temperature > 0:
        raise ValueError(f"`temperature` must be > 0, got {temperature!r}.")
    if not isinstance(top_k, (int, np.integer)) or top_k < 0:
        raise ValueError(f"`top_k` must be an integer >= 0, got {top_k!r}.")
    prompt = ops.cast(ops.convert_to_tensor(prompt), "int32")
    prompt_length = prompt.shape[1]
    if prompt_length is not None and prompt_length < 1:
        raise ValueError(f"the prompt must hold at least one token per row, got shape {prompt.shape}.")
    if prompt_length is None:  # traced with a free length (a SavedModel taking a prompt string)
        prompt_length = ops.shape(prompt)[1]
    total = prompt_length + max_length
    batch = ops.shape(prompt)[0]
    tokens = ops.concatenate([prompt, ops.zeros((batch, max_length), "int32")], axis=1)
    logits, state = step_fn(prompt[:, :1], state, context)
    vocab = logits.shape[-1]
    uniform = keras.random.uniform((batch, max_length, vocab), minval=1e-7, maxval=1.0, seed=seed)
    gumbel = -ops.log(-ops.log(uniform))
    steps = ops.arange(total, dtype="int32")

    def cond(i, tokens, logits, state, finished):
        return i < total

    def body(i, tokens, logits, state, finished):
        scaled = _forbid_padding(ops.cast(logits, "float32"), forbidden) / temperature
        if top_k:
            kth = ops.top_k(scaled, min(top_k, vocab))[0][:, -1:]
            scaled = ops.where(scaled < kth, NEG_INF, scaled)
        noise = ops.take(gumbel, ops.maximum(i - prompt_length, 0), axis=1)
        drawn = ops.cast(ops.argmax(scaled + noise, axis=-1), "int32")
        drawn = ops.where(finished, PAD_ID, drawn)
        in_prompt = i < prompt_length
        current = ops.where(in_prompt, ops.sum(ops.where(steps == i, tokens, 0), axis=1), drawn)
        if end_id is not None:
            finished = ops.logical_or(finished, ops.logical_and(ops.logical_not(in_prompt), drawn == end_id))
        logits, state = step_fn(current[:, None], state, context)
        return i + 1, _write(tokens, i, current), logits, state, finished

    finished = ops.zeros((batch,), dtype="bool")
    one = ops.convert_to_tensor(1, dtype="int32")
    _, tokens, _, _, _ = ops.while_loop(cond, body, (one, tokens, logits, state, finished))
    return tokens[:, prompt_length:]


# --- SequenceGenerator models -------------------------------------------------


def generator_step(model, inference_models=None):
    """`(encode, step_fn)` for a `SequenceGenerator`: `encode(inputs)` ->
    `(state, context)`, and the `step_fn` of `greedy_search`/`beam_search`."""
    encoder, step = inference_models or model.inference_models()

    def encode(inputs):
        encoded = encoder(inputs)
        state = {k: v for k, v in encoded.items() if k.startswith("state_")}
        context = {k: v for k, v in encoded.items() if not k.startswith("state_")}
        return state, context

    def step_fn(tokens, state, context):
        outputs = step({"decoder_tokens": tokens, **state, **context})
        return outputs["logits"][:, -1, :], {k: outputs[k] for k in state}

    return encode, step_fn


def decoding_function(model, *, max_length, beam_size=1, length_penalty=0.0, start_id=START_ID,
                      end_id=END_ID, inference_models=None):
    """`inputs -> ids` for a `SequenceGenerator`, one compiled graph:
    `ids` `(batch, steps)` int32 (greedy with `beam_size=1`, else the best
    beam), `steps <= max_length`. A `tf.function` on TensorFlow (usable in
    a SavedModel), a function of `lax.while_loop` on JAX."""
    _check(max_length, beam_size, length_penalty)
    inference_models = inference_models or model.inference_models()
    encode, step_fn = generator_step(model, inference_models)

    def run(inputs):
        state, context = encode(inputs)
        batch = ops.shape(next(iter(state.values())))[0]
        if beam_size == 1:
            ids, steps = greedy_search(step_fn, state, context, batch, max_length=max_length,
                                       start_id=start_id, end_id=end_id)
        else:
            ids, _, steps = beam_search(step_fn, state, context, batch, beam_size=beam_size,
                                        max_length=max_length, length_penalty=length_penalty,
                                        start_id=start_id, end_id=end_id)
            ids = ids[:, 0]
        return ids[:, :steps]

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        encoder_input = inference_models[0].inputs[0]
        spec = tf.TensorSpec((None,) + tuple(encoder_input.shape[1:]), encoder_input.dtype)
        # One trace for every batch and length; ops.while_loop needs no AutoGraph.
        return tf.function(run, input_signature=[spec], autograph=False)
    return run


_CACHE = weakref.WeakKeyDictionary()


def _encoder_input(inputs):
    if isinstance(inputs, dict):  # {"source_tokens": ids} -> ids
        if len(inputs) != 1:
            raise ValueError(f"`inputs` must hold only the encoder input, got keys {sorted(inputs)}.")
        (inputs,) = inputs.values()
    return inputs


def decode(model, inputs, *, max_length, beam_size=1, length_penalty=0.0, start_id=START_ID, end_id=END_ID):
    """Decode a batch with a `SequenceGenerator` (greedy when `beam_size=1`).

    Args:
        model: an `OneToMany` or `EncoderDecoder`.
        inputs: the encoder input (source ids or features, an image batch,
            a feature vector batch), or a one-key dict of it.
        max_length: the most tokens to generate.
        beam_size, length_penalty: see `beam_search`.
        start_id: first decoder input; end_id: a row stops after emitting
            it (`None` always generates `max_length` tokens).

    Returns an int32 NumPy array `(batch, steps)`, `steps <= max_length`; the
    ids after a row's end token are `PAD_ID`. The compiled function is cached
    per model and setting.
    """
    _check(max_length, beam_size, length_penalty)
    key = (max_length, beam_size, float(length_penalty), start_id, end_id)
    functions = _CACHE.setdefault(model, {})
    if key not in functions:
        if "models" not in functions:
            functions["models"] = model.inference_models()
        functions[key] = decoding_function(model, max_length=max_length, beam_size=beam_size,
                                           length_penalty=length_penalty, start_id=start_id, end_id=end_id,
                                           inference_models=functions["models"])
    inputs = ops.convert_to_tensor(_encoder_input(inputs))
    return np.asarray(ops.convert_to_numpy(functions[key](inputs)), dtype="int32")


def greedy_decode(model, inputs, *, max_length, start_id=START_ID, end_id=END_ID, inference_models=None):
    """Greedy decoding of a batch; see `decode`."""
    if inference_models is not None:
        run = decoding_function(model, max_length=max_length, start_id=start_id, end_id=end_id,
                                inference_models=inference_models)
        return np.asarray(ops.convert_to_numpy(run(ops.convert_to_tensor(_encoder_input(inputs)))), "int32")
    return decode(model, inputs, max_length=max_length, start_id=start_id, end_id=end_id)
