"""Image captioning (one-to-many): an image encoder, an LSTM/GRU decoder
started from the image features (Show and Tell) with optional attention over
the CNN feature map (Show, Attend and Tell), teacher forcing, greedy and beam
decoding through `rnnzoo.decoding`.

```bash
python -m recipes.captioning                        # built-in digit strips ("four one seven")
python -m recipes.captioning --builtin shapes       # built-in coloured-shape scenes
python -m recipes.captioning --data Flickr8k.token.txt --images Flicker8k_Dataset --image-size 128 128
python -m recipes.captioning --data captions.txt --images photos --image-encoder mobilenet_v3_small \\
    --weights imagenet                              # a frozen keras.applications backbone (downloads weights)
python -m recipes.captioning --data captions.txt --images features/   # precomputed `.npy` feature vectors
```
Image encoders: `cnn` (default, trained from scratch, works offline;
attention reads its feature map), a `keras.applications` backbone (frozen;
its pooled features start the decoder), or precomputed features: when the
captions file names `.npy` files, each holds one image's feature vector.

Reports BLEU-1..4 and WER, greedy and beam; draws captioned test images;
exports a SavedModel (images in, captions out) and TFLite encoder + step.
"""

import functools
import os

import rnnzoo
from rnnzoo.cli.arguments import parse_config
from rnnzoo.configs import CaptioningConfig
from rnnzoo.metrics import plot_caption_grid
from rnnzoo.tasks import captioning, recipe


def main(argv=None):
    config = parse_config(CaptioningConfig, argv, prog="python -m recipes.captioning")
    if config.bidirectional:
        raise ValueError("a caption decoder generates left to right: drop --bidirectional")

    # Data: captioned images (or feature vectors), the caption vocabulary, the image encoder's inputs.
    splits, run = recipe.start("captioning", config, builtin=config.builtin, splits=captioning.builtin_splits(config),
                               export="generator",
                               load_path=functools.partial(captioning.load_path, images=config.images))
    encoder = captioning.caption_vocabulary(run, splits["train"])
    raw = {split: captioning.load_pixels(config, examples) for split, examples in splits.items()}
    inputs, features, model_options = captioning.image_encoder(config, raw)
    key = "image" if inputs["train"].ndim == 4 else "features"

    # Model: the image encoder starts (and with attention, is read by) a recurrent caption decoder.
    with recipe.distribution(config).scope():
        model = rnnzoo.build_model("one_to_many", vocab_size=encoder.vocab_size,
                                   **config.model_options(**model_options))
        recipe.compile_model(model, config)

    # Training: teacher forcing on every (image, caption) pair, the best epoch by validation loss.
    datasets = {split: captioning.caption_dataset(inputs[split], encoder, splits[split], key)
                for split in ("train", "validation")}
    lengths = [len(ids) + 1 for ids in encoder.encode_to_lists(c for e in splits["train"] for c in e.captions)]
    model, state = recipe.train(model, recipe.epoch_batches(datasets["train"], config, lengths),
                                recipe.ordered_batches(datasets["validation"], config), run, config,
                                monitor="val_loss", mode="min")

    # Evaluation: BLEU-1..4 against all references and WER, greedy and beam search.
    max_length = max(lengths) + 5
    references = [e.captions for e in splits["test"]]
    metrics, captions = {}, {}
    for name, beam_size in (("greedy", 1), ("beam", config.beam_size)):
        rows = captioning.caption_ids(model, inputs["test"], max_length=max_length, beam_size=beam_size,
                                      length_penalty=config.length_penalty)
        captions[name] = captioning.to_text(encoder, rows)
        metrics.update({f"{k}_{name}" if name == "greedy" else k: v
                        for k, v in captioning.score(references, captions[name]).items()})
    for example, caption in list(zip(splits["test"], captions["beam"]))[:5]:
        print(f"  reference: {example.captions[0]}\n  output:    {caption}\n")

    dataset = config.data if config.data != "builtin" else config.builtin
    recipe.save_metrics(run, config, model, metrics, state, dataset=dataset, num_examples=len(references))

    # Export: a SavedModel taking images (beam search in the graph) and TFLite encoder + decoder step, checked.
    decoding = {"max_length": max_length, "beam_size": config.beam_size, "length_penalty": config.length_penalty}
    tflite = recipe.export_generator_tflite(run, config, model, inputs["test"][:8], max_length=max_length)
    serving = card = captioner = None
    if raw["test"].ndim == 4:  # images, not precomputed features
        plot_caption_grid(raw["test"][:12], captions["beam"][:12], [r[0] for r in references[:12]],
                          run.file("captions.png"))
        captioner = captioning.Captioner(encoder, model, features, **decoding)
        serving = recipe.export_saved_model(run, config, captioner, raw["test"])
        card = {"title": f"Image captioner: {os.path.basename(run.path)}", "metric_name": "bleu_4",
                "description": f"{config.image_encoder} image encoder and a {config.cell.upper()} decoder with "
                               f"{config.attention} attention; beam search (beam {config.beam_size}).",
                "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving,
                "text_example": None, "input_kind": "image", "tflite_generator": tflite}
    recipe.finish(run, config, model, metrics, state, dataset=dataset, num_examples=len(references),
                  extra={"serving_check": serving, "decoding": decoding, "tflite": tflite}, card=card,
                  task=captioner)
    return metrics


if __name__ == "__main__":
    recipe.command(main)
