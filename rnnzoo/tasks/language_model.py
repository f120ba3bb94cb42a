"""Language modelling (the language-model recipe): sampling a continuation
of a prompt with the stateless streaming model in one compiled loop, the
same in Python and in the SavedModel that maps a prompt string to text.

A run folder holds `tokens/` (the `TextEncoder`), `serving.keras` (the
stateless copy of the stateful model) and `saved_model/`.
"""

import keras
import numpy as np
from keras import ops

from rnnzoo import decoding
from rnnzoo.data import END_ID, PAD_ID, START_ID, UNK_ID
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.exporting.text_serving import export_text_model, load_signature
from rnnzoo.tasks import Evaluation


RECIPE = "language_model"
DATASETS = ("tinyshakespeare",)


def forbidden_ids(level):
    """Ids never sampled: padding, start and end never occur in the training
    streams; <unk> does at word level only."""
    return (PAD_ID, START_ID, END_ID) + ((UNK_ID,) if level == "character" else ())


def sampler(serving_model, *, length, temperature, top_k, seed, level):
    """`prompt_ids (batch, n) -> ids (batch, length)`: feed the prompt, then
    draw `length` tokens (`decoding.sample`) with the one-step model of
    `serving_model` (a stateless `many_to_many` language model)."""
    step = serving_model.streaming_model()
    state_sizes = {name: tensor.shape[-1] for name, tensor in step.input.items() if name.startswith("state_")}

    def step_fn(tokens, state, context):
        outputs = step({"tokens": tokens, **state})
        return outputs["logits"], {name: outputs[name] for name in state}

    def run(prompt_ids):
        batch = ops.shape(prompt_ids)[0]
        state = {name: ops.zeros((batch, size)) for name, size in state_sizes.items()}  # not always `units` wide
        return decoding.sample(step_fn, state, {}, prompt_ids, max_length=length, temperature=temperature,
                               top_k=top_k, seed=seed, forbidden=forbidden_ids(level))

    return run


def generate(serving_model, encoder, prompt, **options):
    """The text sampled after `prompt` (a string); see `sampler`."""
    prompt_ids = encoder.encode_to_lists([prompt])[0]
    if not prompt_ids:
        raise ValueError(f"the prompt {prompt!r} holds no token.")
    ids = sampler(serving_model, **options)(np.array([prompt_ids], "int32"))
    return encoder.decode(np.asarray(ops.convert_to_numpy(ids)))[0]


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
        return {"text": encoder.ids_to_text(tf.concat([ids, drawn], axis=1))[0],
                "continuation": encoder.ids_to_text(drawn)[0]}

    return serve


def language_model_vocabulary(run, config, text):
    """Characters, or words as written (case and normalization kept), of the
    training text; read back when resuming, so ids match."""
    if config.level == "character":
        return TextEncoder.resume_or_adapt(run.file("tokens"), [text], tokenizer="character")
    return TextEncoder.resume_or_adapt(run.file("tokens"), text.splitlines(), tokenizer="word", lowercase=False,
                                       normalization=None, max_size=config.vocab_size)


def encode_text(encoder, text, level):
    """A whole text as one id array (word level: line by line)."""
    if level == "character":
        return np.asarray(encoder.encode_to_lists([text])[0], "int32")
    lines = encoder.encode_to_lists(text.splitlines())
    return np.asarray([i for line in lines for i in line], "int32")


def stream_windows(ids, streams, window):
    """Truncated-BPTT batches: `(inputs, targets)` of shape `(batches,
    streams, window)`. Stream `s` is the `s`-th contiguous slice of the
    text, batch `b` its `b`-th window; the targets are the inputs shifted by
    one token. The tail that does not fill a window is dropped."""
    length = (len(ids) - 1) // streams
    batches = length // window
    if batches < 1:
        raise ValueError(f"the text ({len(ids)} tokens) is too short for {streams} streams of windows of "
                         f"{window} tokens; lower --batch-size or --sequence-length.")
    usable = batches * window
    inputs = ids[: streams * length].reshape(streams, length)[:, :usable]
    targets = ids[1: streams * length + 1].reshape(streams, length)[:, :usable]
    split = lambda a: a.reshape(streams, batches, window).transpose(1, 0, 2)  # noqa: E731
    return split(inputs), split(targets)


def window_batches(windows):
    """Consecutive windows, in order: each continues every stream."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(windows)


class ResetStates(keras.callbacks.Callback):
    """Zero a stateful model's states when an epoch, a validation pass or an
    evaluation starts (and after it, so training resumes from zeros)."""

    def _reset(self, *config, **kwargs):
        self.model.reset_states()

    on_epoch_begin = on_test_begin = on_test_end = on_predict_begin = _reset


def evaluate_perplexity(model, windows):
    """Perplexity over consecutive windows, with states carried across them."""
    model.reset_states()
    loss = model.evaluate(window_batches(windows), verbose=0, return_dict=True)["loss"]
    model.reset_states()
    return float(np.exp(loss)), float(loss)


def export_serving(run, serving_model, encoder, prompt, expected, **sampling):
    """The prompt-in SavedModel, checked against the Python sampler's text."""
    import tensorflow as tf

    spec = tf.TensorSpec([], tf.string, name="prompt")
    folder = export_text_model(run.file("saved_model"), serving_function(serving_model, encoder, **sampling),
                               track=[serving_model, encoder.vocabulary.tf_table()], input_signature=(spec,))
    served = load_signature(folder)(prompt=tf.constant(prompt))["continuation"].numpy().decode("utf-8")
    check = {"examples": 1, "agreement": float(served == expected)}
    print(f"SavedModel (prompt in, text out): {folder}; same sample as the Python sampler: {served == expected}")
    return check


def load_path(path, encoding="utf-8"):
    """A plain text file."""
    from rnnzoo.data.formats import load_text

    return [load_text(path, encoding=encoding)]


def evaluate_run(run_dir, examples, config):
    """Perplexity of the run's model on the texts, each read as one stream
    in windows of the run's `--sequence-length` with the state carried from
    window to window (as in training); every token after the first is
    scored, the last partial window too."""
    import os

    from rnnzoo.utils.saving import load_model

    encoder = TextEncoder.load(os.path.join(run_dir, "tokens"))
    serving_model = load_model(os.path.join(run_dir, "serving.keras"))
    streaming = type(serving_model).from_config({**serving_model.get_config(), "stateful": True, "batch_size": 1})
    streaming.set_weights(serving_model.get_weights())
    window = config.get("sequence_length", 100)
    total_loss = total_tokens = 0.0
    for text in examples:
        ids = encode_text(encoder, text, config.get("level", "character"))
        if len(ids) < 2:
            raise ValueError(f"a text of {len(ids)} tokens has nothing to predict; give a longer text.")
        streaming.reset_states()
        for start in range(0, len(ids) - 1, window):
            targets = ids[start + 1:start + 1 + window]
            logits = np.asarray(streaming.predict_on_batch(ids[None, start:start + len(targets)]))[0]
            shifted = logits.astype("float64") - logits.max(-1, keepdims=True)
            log_probabilities = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
            total_loss -= log_probabilities[np.arange(len(targets)), targets].sum()
            total_tokens += len(targets)
    loss = total_loss / total_tokens
    return {"perplexity": float(np.exp(loss)), "loss": float(loss), "bits_per_token": float(loss / np.log(2)),
            "tokens": int(total_tokens)}


EVALUATION = Evaluation(RECIPE, DATASETS, lambda config: "characters", load_path, evaluate_run)
