"""Language modelling (the language-model recipe): sampling a continuation
of a prompt with the stateless streaming model in one compiled loop, the
same in Python and in the SavedModel that maps a prompt string to text.

A run folder holds `tokens/` (the `TextEncoder`), `serving.keras` (the
stateless copy of the stateful model) and `saved_model/`.
"""

import dataclasses
import os

import keras
import numpy as np
from keras import ops

from rnnzoo import decoding
from rnnzoo.data import END_ID, PAD_ID, START_ID, UNK_ID
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.data.reading import read_json
from rnnzoo.tasks import Evaluation
from rnnzoo.tasks.base import Task


RECIPE = "language_model"
DATASETS = ("tinyshakespeare",)
TOKENS = "tokens"
SERVING_MODEL = "serving.keras"
MAX_SERVING_CHECK = 8


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


def generate(serving_model, encoder, prompt, backward=False, **options):
    """The text sampled after `prompt` (a string), or before it for a
    `backward` model (which reads the prompt right to left); see `sampler`."""
    prompt_ids = encoder.encode_to_lists([prompt])[0]
    if not prompt_ids:
        raise ValueError(f"the prompt {prompt!r} holds no token.")
    ids = sampler(serving_model, **options)(np.array([prompt_ids[::-1] if backward else prompt_ids], "int32"))
    ids = np.asarray(ops.convert_to_numpy(ids))
    return encoder.decode(ids[:, ::-1] if backward else ids)[0]


def serving_function(serving_model, encoder, backward=False, **options):
    """`prompt` (one string) -> `text` (the prompt as the model read it, and
    the sample after it, or before it for a `backward` model) and
    `continuation` (the sample alone), in one graph. The draw is seeded, so
    a prompt always gets the same text; an empty prompt starts from <unk>.
    (The sampler never draws the end or padding ids, so reversed samples
    hold no stop.)"""
    import tensorflow as tf

    run = sampler(serving_model, **options)

    def serve(prompt):
        ids = encoder.encode(prompt)
        ids = tf.cond(tf.size(ids) > 0, lambda: ids, lambda: tf.constant([UNK_ID], tf.int32))[None]
        if not backward:
            drawn = run(ids)
            return {"text": encoder.ids_to_text(tf.concat([ids, drawn], axis=1))[0],
                    "continuation": encoder.ids_to_text(drawn)[0]}
        drawn = tf.reverse(run(tf.reverse(ids, [1])), [1])
        return {"text": encoder.ids_to_text(tf.concat([drawn, ids], axis=1))[0],
                "continuation": encoder.ids_to_text(drawn)[0]}

    return serve


def vocabulary_texts(text, level):
    """What a vocabulary is learnt from: the whole text (characters), or its lines (words)."""
    return [text] if level == "character" else text.splitlines()


def vocabulary_options(level, max_size):
    """Characters, or words as written (case and normalization kept)."""
    if level == "character":
        return {"tokenizer": "character"}
    return {"tokenizer": "word", "lowercase": False, "normalization": None, "max_size": max_size}


def language_model_vocabulary(run, config, text, pretrained=None):
    """The training text's vocabulary (`vocabulary_options`), or the
    `pretrained` language model's; read back when resuming, so ids match."""
    if pretrained is not None and not os.path.isdir(run.file(TOKENS)):
        pretrained.encoder.save(run.file(TOKENS))
    return TextEncoder.resume_or_adapt(run.file(TOKENS), vocabulary_texts(text, config.level),
                                       **vocabulary_options(config.level, config.vocab_size))


def load_language_model(source, flag, level=None, why=""):
    """The `LanguageModel` of a run folder or preset (or `source` itself, a
    `LanguageModel`) given to the command-line option `flag`; one line
    naming both if the folder is missing or the model is not `level`-level
    (`why` says what reads it)."""
    if isinstance(source, LanguageModel):
        name, model = "<LanguageModel>", source
    elif not os.path.isdir(source):
        raise ValueError(f"{flag} {source}: no such folder (a language model's run folder or preset).")
    else:
        name, model = source, LanguageModel.from_preset(source)
    if level and model.level != level:
        raise ValueError(f"{flag} {name}: a {model.level}-level language model; {why}")
    return model


# What a fine-tuned language model takes from the one it starts from (`--init-from`), as config fields.
ARCHITECTURE = ("cell", "units", "num_layers", "embedding_dim", "dropout", "embedding_dropout", "locked_dropout",
                "tie_embeddings", "activation_regularization", "temporal_activation_regularization")


def language_model_to_fine_tune(config):
    """`(language_model, config)`: the `LanguageModel` of `--init-from` (a
    run folder or preset) and the config with its level, direction,
    architecture and regularizers, so that its weights fit and the run says
    what it trains; or `(None, config)`. (ULMFiT's second stage: the
    language model fine-tuned on the task's own text.)"""
    if not config.init_from:
        return None, config
    pretrained = load_language_model(config.init_from, "--init-from")
    options = pretrained.model.get_config()
    cell_options = {k: v for k, v in (options["cell_options"] or {}).items() if k != "stateful"}
    return pretrained, dataclasses.replace(config, level=pretrained.level, backward=pretrained.backward,
                                           weight_drop=0.0, cell_options=cell_options or None,
                                           **{name: options[name] for name in ARCHITECTURE})


def encode_text(encoder, text, level, backward=False):
    """A whole text as one id array (word level: line by line), last token
    first for a `backward` model (which reads right to left)."""
    if level == "character":
        ids = np.asarray(encoder.encode_to_lists([text])[0], "int32")
    else:
        ids = np.asarray([i for line in encoder.encode_to_lists(text.splitlines()) for i in line], "int32")
    return ids[::-1].copy() if backward else ids


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


def load_path(path, encoding="utf-8"):
    """A plain text file."""
    from rnnzoo.data.formats import load_text

    return [load_text(path, encoding=encoding)]


def evaluate_run(run_dir, examples, config):
    """Perplexity of the run's model on the texts (`text_perplexity`), in
    windows of the run's `--sequence-length`."""
    from rnnzoo.utils.saving import load_model

    encoder = TextEncoder.load(os.path.join(run_dir, TOKENS))
    serving_model = load_model(os.path.join(run_dir, SERVING_MODEL))
    return text_perplexity(serving_model, encoder, examples, config.get("level", "character"),
                           config.get("sequence_length", 100), config.get("backward", False))


def text_perplexity(serving_model, encoder, texts, level, window, backward=False):
    """Perplexity of a stateless language model on the texts, each read as
    one stream in windows of `window` tokens with the state carried from
    window to window (as in training); every token after the first is
    scored, the last partial window too."""
    streaming = type(serving_model).from_config({**serving_model.get_config(), "stateful": True, "batch_size": 1})
    streaming.set_weights(serving_model.get_weights())
    total_loss = total_tokens = 0.0
    for text in texts:
        ids = encode_text(encoder, text, level, backward)
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


class LanguageModel(Task):
    """A language model that reads raw text and writes more of it: a
    `TextEncoder` of characters or words (the preprocessor) and a stateless
    `many_to_many` model; `generate` samples after a prompt in one compiled
    loop (`decoding.sample`), `evaluate` scores perplexity with the state
    carried from window to window.

    ```python
    lm = LanguageModel.from_examples([text], level="character", units=256)
    lm.fit([text], epochs=5)
    lm.generate("ROMEO:")                # the sampled continuation
    lm.evaluate([held_out])["perplexity"]
    ```
    """

    recipe = RECIPE
    serves = "prompt in, text out"

    def __init__(self, encoder, model, level="character", sequence_length=100, length=300, temperature=0.8,
                 top_k=0, seed=0, backward=False):
        if level not in ("character", "word"):
            raise ValueError(f"level must be 'character' or 'word', got {level!r}.")
        self.encoder, self.model, self.level, self.backward = encoder, model, level, bool(backward)
        self.sequence_length, self.length = int(sequence_length), int(length)
        self.temperature, self.top_k, self.seed = float(temperature), int(top_k), int(seed)

    @classmethod
    def from_examples(cls, texts, *, level="character", max_vocabulary=20000, sequence_length=100, **options):
        """Learn the vocabulary of the training texts and build the model
        (compiled); sampling options (`length`, `temperature`, `top_k`,
        `seed`) go to the task, the rest to `rnnzoo.build_model`."""
        from rnnzoo.topologies import build_model

        sampling = {k: options.pop(k) for k in ("length", "temperature", "top_k", "seed", "backward") if k in options}
        encoder = TextEncoder.adapt(vocabulary_texts("\n".join(texts), level),
                                    **vocabulary_options(level, max_vocabulary))
        model = build_model("many_to_many", vocab_size=encoder.vocab_size, num_classes=encoder.vocab_size,
                            bidirectional=False, **options)
        return cls(encoder, model, level=level, sequence_length=sequence_length, **sampling)

    def dataset(self, texts, y=None, *, batch_size=32, shuffle=False, seed=0):
        """Windows of `sequence_length` tokens of the texts and the same
        windows shifted by one token (the targets); each window starts from
        a zero state."""
        import tensorflow as tf

        ids = np.concatenate([encode_text(self.encoder, text, self.level, self.backward) for text in texts])
        count = (len(ids) - 1) // self.sequence_length
        if count < 1:
            raise ValueError(f"the texts hold {len(ids)} tokens; a window needs {self.sequence_length + 1}.")
        usable = count * self.sequence_length
        windows = (ids[:usable].reshape(count, -1), ids[1:usable + 1].reshape(count, -1))
        dataset = tf.data.Dataset.from_tensor_slices(windows)
        if shuffle:
            dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=False)
        return dataset.batch(batch_size)

    def sampling(self):
        return {"length": self.length, "temperature": self.temperature, "top_k": self.top_k, "seed": self.seed,
                "level": self.level, "backward": self.backward}

    def generate(self, prompt):
        """The text sampled after `prompt`, or before it for a backward
        model (seeded: the same prompt, the same text)."""
        return generate(self.model, self.encoder, prompt, **self.sampling())

    def with_prompt(self, prompt, sample):
        """The prompt and its sample in reading order."""
        return sample + prompt if self.backward else prompt + sample

    def predict(self, prompts, batch_size=None):
        """The continuation sampled after each prompt."""
        return [self.generate(prompt) for prompt in prompts]

    def evaluate(self, texts, y=None, batch_size=None):
        """Perplexity, loss and bits per token of the texts, each read as one
        stream in windows of `sequence_length` with the state carried over."""
        return text_perplexity(self.model, self.encoder, texts, self.level, self.sequence_length, self.backward)

    def get_config(self):
        return {"level": self.level, "sequence_length": self.sequence_length, **{
            k: v for k, v in self.sampling().items() if k != "level"}}

    @classmethod
    def model_path(cls, preset):
        serving = os.path.join(preset, SERVING_MODEL)  # a run folder's model.keras is the stateful one
        return serving if os.path.exists(serving) else super().model_path(preset)

    @classmethod
    def run_options(cls, run_dir):
        path = os.path.join(run_dir, "config.json")
        config = read_json(path) if os.path.exists(path) else {}
        names = {"level": "level", "sequence_length": "sequence_length", "length": "generate",
                 "temperature": "temperature", "top_k": "top_k", "seed": "seed", "backward": "backward"}
        return {name: config[key] for name, key in names.items() if key in config}

    # --- Transfer: a pretrained language model as the start of another task (ULMFiT) ---

    ENCODER_OPTIONS = ("cell", "units", "num_layers", "embedding_dim", "cell_options")

    def encoder_options(self):
        """The `rnnzoo.build_model` options that give a model this language
        model's embedding and recurrent layers (forward only), so that
        `transfer_to` can copy them."""
        config = self.model.get_config()
        options = {name: config[name] for name in self.ENCODER_OPTIONS}
        options["cell_options"] = {k: v for k, v in (options["cell_options"] or {}).items() if k != "stateful"} or None
        return {**options, "bidirectional": False}

    def transfer_to(self, model):
        """Copies the embedding and every `encoder_rnn_{i}` layer's weights
        into `model` (built with `encoder_options` and this vocabulary);
        returns the layer names copied."""
        copied = []
        for layer in self.model.layers:
            if not (layer.name == "embedding" or layer.name.startswith("encoder_rnn_")):
                continue
            target = model.get_layer(layer.name)
            weights = layer.get_weights()
            shapes = ([w.shape for w in weights], [tuple(w.shape) for w in target.weights])
            if [tuple(s) for s in shapes[0]] != shapes[1]:
                raise ValueError(f"layer {layer.name!r}: the language model's weights have shapes {shapes[0]}, "
                                 f"the model's {shapes[1]}; build it with `encoder_options()`.")
            target.set_weights(weights)
            copied.append(layer.name)
        return copied

    def save_assets(self, folder):
        self.encoder.save(os.path.join(folder, TOKENS))

    @classmethod
    def load_assets(cls, folder):
        return {"encoder": TextEncoder.load(os.path.join(folder, TOKENS))}

    def serving(self):
        """`prompt` (one string) -> `text` and `continuation`."""
        import tensorflow as tf

        return (serving_function(self.model, self.encoder, **self.sampling()),
                (tf.TensorSpec([], tf.string, name="prompt"),), [self.model, self.encoder.vocabulary.tf_table()])

    def export_check(self, signature, prompts):
        import tensorflow as tf

        prompts = [p for p in prompts if self.encoder.encode_to_lists([p])[0]][:MAX_SERVING_CHECK]
        served = [signature(prompt=tf.constant(p))["continuation"].numpy().decode("utf-8") for p in prompts]
        return {"examples": len(prompts), "agreement": float(np.mean([a == b for a, b in
                                                                      zip(served, self.predict(prompts))]))}
