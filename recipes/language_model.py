"""Language modelling: a stacked LSTM/GRU over characters or words, trained
statefully with truncated backpropagation through time, scored by
perplexity, sampled with temperature and top-k.

```bash
python -m recipes.language_model                   # built-in verses, characters, a few minutes
python -m recipes.language_model --data tinyshakespeare --data-root ../shared/data --units 512 --epochs 12
python -m recipes.language_model --data corpus/ --backward   # right to left (contextual string embeddings)
python -m recipes.language_model --data corpus/ --level word --tie-embeddings --weight-drop 0.3 \
    --embedding-dropout 0.05 --locked-dropout --ar 2 --tar 1   # AWD-LSTM, for ULMFiT (`--init-from`)
```
A folder is a corpus (CoNLL files give their sentences). `--init-from RUN` fine-tunes a run on new text;
`recipes.sentiment --init-from RUN` starts from a word-level run (ULMFiT); `recipes.tagging
--string-embeddings FWD,BWD` reads two character-level runs.

Truncated BPTT: the training text is cut into `--batch-size` parallel streams; batch `i` holds the `i`-th
window of `--sequence-length` tokens of every stream, so each stream's state carries from one batch to the
next (Keras stateful layers) and gradients stop at window edges. States are reset at the start of every
epoch and of every evaluation. Splits: the built-in corpus has its own; a text file or a corpus, the first
90% to train and the last 10% to validate (the reported perplexity's text).
"""

import os

import numpy as np

import rnnzoo
from rnnzoo.data import formats
from rnnzoo.data.datasets import text_prefix
from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import LanguageModelConfig
from rnnzoo.tasks import language_model, recipe
from rnnzoo.utils.saving import save_model

TRAIN_FRACTION = 0.9


def main(argv=None):
    config = parse_config(LanguageModelConfig, argv, prog="python -m recipes.language_model")
    if config.bidirectional:
        raise ValueError("a language model reads left to right: drop --bidirectional")
    pretrained, config = language_model.language_model_to_fine_tune(config)  # --init-from: fine-tune another run

    # Data: the text, its vocabulary, and windows of parallel streams for truncated BPTT.
    splits, run = recipe.start("language_model", config, builtin="characters", load_path=formats.load_text,
                               names=language_model.DATASETS, split_path=text_prefix(TRAIN_FRACTION), unit="texts",
                               export="streaming")
    encoder = language_model.language_model_vocabulary(run, config, splits["train"][0], pretrained)
    windows = {}
    for split, (text,) in splits.items():
        ids = language_model.encode_text(encoder, text, config.level, config.backward)
        windows[split] = language_model.stream_windows(ids, config.batch_size, config.sequence_length)
        print(f"{split}: {len(ids):,} tokens -> {windows[split][0].shape[0]} batches of {config.batch_size} "
              f"streams x {config.sequence_length}")
    print(f"vocabulary: {encoder.vocab_size} ({config.level}s)")

    # Model: a stateful recurrent stack over a fixed batch of streams.
    with recipe.distribution(config).scope():
        model = rnnzoo.build_model("many_to_many", vocab_size=encoder.vocab_size, num_classes=encoder.vocab_size,
                                   **config.model_options(stateful=True, batch_size=config.batch_size))
        if pretrained is not None:
            model.set_weights(pretrained.model.get_weights())
        recipe.compile_model(model, config)

    # Training: states carry across consecutive windows and reset every epoch.
    model, state = recipe.train(model, lambda epoch: language_model.window_batches(windows["train"]),
                                language_model.window_batches(windows["validation"]), run, config,
                                monitor="val_loss", mode="min", callbacks=[language_model.ResetStates()])

    # Evaluation: perplexity on the held-out text, then a sample from a prompt.
    perplexity, loss = language_model.evaluate_perplexity(model, windows["test"])
    metrics = {"perplexity": perplexity, "loss": loss, "bits_per_token": loss / np.log(2)}
    prompt, serving_model = config.prompt or splits["test"][0][:40], model.stateless_copy()
    save_model(serving_model, run.file("serving.keras"))
    task = language_model.LanguageModel(encoder, serving_model, length=config.generate, **{
        k: getattr(config, k) for k in ("level", "sequence_length", "temperature", "top_k", "seed", "backward")})
    sample = task.generate(prompt)
    print(f"prompt: {prompt!r}\nsample (temperature {config.temperature}, top-k {config.top_k or 'all'}):\n"
          f"{task.with_prompt(prompt, sample)}\n")

    recipe.save_metrics(run, config, model, metrics, state, dataset=config.data, num_examples=windows["test"][1].size)

    # Export: a SavedModel that samples from a prompt string, checked against the sample above.
    serving = recipe.export_saved_model(run, config, task, [prompt])
    tflite = recipe.export_streaming_tflite(run, config, serving_model)
    card = {"title": f"Language model: {os.path.basename(run.path)}", "metric_name": "perplexity",
            "description": f"Stateful {config.cell.upper()} {config.level}-level language model; the SavedModel "
                           f"samples {config.generate} tokens after a prompt (temperature {config.temperature}, "
                           f"top-k {config.top_k or 'all'}, seed {config.seed}); `tflite/model.tflite` is the "
                           "one-step model (token and states in, logits and new states out) for on-device sampling.",
            "split_sizes": {k: len(v[0]) for k, v in splits.items()}, "serving_check": serving,
            "text_example": prompt, "input_kind": "prompt"}
    recipe.finish(run, config, model, metrics, state, dataset=config.data, num_examples=int(windows["test"][1].size),
                  extra={"sample": {"prompt": prompt, "text": sample}, "serving_check": serving, "tflite": tflite},
                  card=card, unit="predicted tokens", task=task)
    return metrics


if __name__ == "__main__":
    recipe.command(main)
