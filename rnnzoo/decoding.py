"""Decoding for the sequence generators (`one_to_many`, `encoder_decoder`).

Greedy decoding over the inference models of a `SequenceGenerator`. Each step
is one batched call of the one-step decoder model.
"""

import numpy as np
from keras import ops

from rnnzoo.data import END_ID, PAD_ID, START_ID


def greedy_decode(
    model, inputs, *, max_length, start_id=START_ID, end_id=END_ID, inference_models=None
):
    """Decodes a batch greedily.

    Args:
        model: a `SequenceGenerator` (`OneToMany` or `EncoderDecoder`).
        inputs: the encoder input (source ids or features, an image batch,
            a feature vector batch), or a one-key dict of it.
        max_length: the most tokens to generate.
        start_id: first decoder input.
        end_id: a row stops after emitting it; `None` always generates
            `max_length` tokens.
        inference_models: `model.inference_models()`, to reuse across calls.

    Returns an int32 array `(batch, steps)`, `steps <= max_length`; the ids
    after a row's end token are `PAD_ID`. The padding id is never emitted.
    """
    if max_length < 1:
        raise ValueError(f"`max_length` must be >= 1, got {max_length!r}.")
    encoder, step = inference_models or model.inference_models()
    if isinstance(inputs, dict):  # {"source_tokens": ids} -> ids
        if len(inputs) != 1:
            raise ValueError(
                f"`inputs` must hold only the encoder input, got keys {sorted(inputs)}."
            )
        (inputs,) = inputs.values()
    encoded = encoder(inputs)
    first_state = next(v for k, v in encoded.items() if k.startswith("state_"))
    batch_size = int(ops.shape(first_state)[0])
    carried = dict(encoded)
    tokens = np.full((batch_size, 1), start_id, dtype="int32")
    finished = np.zeros(batch_size, dtype=bool)
    generated = []
    for _ in range(max_length):
        outputs = step({"decoder_tokens": ops.convert_to_tensor(tokens), **carried})
        logits = ops.convert_to_numpy(outputs["logits"])[:, -1, :].copy()
        logits[:, PAD_ID] = -np.inf
        next_tokens = logits.argmax(axis=-1).astype("int32")
        next_tokens[finished] = PAD_ID
        generated.append(next_tokens)
        if end_id is not None:
            finished |= next_tokens == end_id
            if finished.all():
                break
        tokens = next_tokens[:, None]
        carried.update({k: v for k, v in outputs.items() if k.startswith("state_")})
    return np.stack(generated, axis=1)
