"""Language modelling (the language-model recipe): sampling a continuation
of a prompt with the stateless streaming model in one compiled loop, the
same in Python and in the SavedModel that maps a prompt string to text.

A run folder holds `tokens/` (the `TextEncoder`), `serving.keras` (the
stateless copy of the stateful model) and `saved_model/`.
"""

import numpy as np
from keras import ops

from rnnzoo import decoding
from rnnzoo.data import END_ID, PAD_ID, START_ID, UNK_ID
from rnnzoo.exporting.text_serving import ids_to_text, rows_to_text


def forbidden_ids(level):
    """Ids never sampled: padding, start and end never occur in the training
    streams; <unk> does at word level only."""
    return (PAD_ID, START_ID, END_ID) + ((UNK_ID,) if level == "character" else ())


def sampler(serving_model, *, length, temperature, top_k, seed, level):
    """`prompt_ids (batch, n) -> ids (batch, length)`: feed the prompt, then
    draw `length` tokens (`decoding.sample`) with the one-step model of
    `serving_model` (a stateless `many_to_many` language model)."""
    step = serving_model.streaming_model()
    state_names = [name for name in step.input if name.startswith("state_")]
    units = serving_model.get_config()["units"]

    def step_fn(tokens, state, context):
        outputs = step({"tokens": tokens, **state})
        return outputs["logits"], {name: outputs[name] for name in state}

    def run(prompt_ids):
        batch = ops.shape(prompt_ids)[0]
        state = {name: ops.zeros((batch, units)) for name in state_names}
        return decoding.sample(step_fn, state, {}, prompt_ids, max_length=length, temperature=temperature,
                               top_k=top_k, seed=seed, forbidden=forbidden_ids(level))

    return run


def generate(serving_model, encoder, prompt, **options):
    """The text sampled after `prompt` (a string); see `sampler`."""
    prompt_ids = encoder.encode_to_lists([prompt])[0]
    if not prompt_ids:
        raise ValueError(f"the prompt {prompt!r} holds no token.")
    ids = sampler(serving_model, **options)(np.array([prompt_ids], "int32"))
    return rows_to_text(encoder, np.asarray(ops.convert_to_numpy(ids)))[0]


def serving_function(serving_model, encoder, **options):
    """`prompt` (one string) -> `text` (the prompt as the model read it, then
    the sample) and `continuation` (the sample alone), in one graph. The
    draw is seeded, so a prompt always gets the same text; an empty prompt
    starts from <unk>."""
    import tensorflow as tf

    run = sampler(serving_model, **options)

    def serve(prompt):
        ids = encoder.encode(prompt)
        ids = tf.cond(tf.size(ids) > 0, lambda: ids, lambda: tf.constant([UNK_ID], tf.int32))[None]
        drawn = run(ids)
        return {"text": ids_to_text(encoder, tf.concat([ids, drawn], axis=1))[0],
                "continuation": ids_to_text(encoder, drawn)[0]}

    return serve
