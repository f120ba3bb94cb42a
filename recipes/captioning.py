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

Reports BLEU-1..4 (corpus, nltk) and WER against the first reference, for
greedy and beam decoding; writes a grid of test images with predicted and
reference captions (`captions.png`); saves a SavedModel whose default
signature maps an image batch (`image`, float32 in [0, 1]) to `caption`
strings.
"""

import os
import sys

import keras
import numpy as np

import rnnzoo
from rnnzoo.data import END_ID, START_ID, formats
from rnnzoo.data.batching import in_length_order, ragged_dataset
from rnnzoo.data.builtin import load_builtin
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.decoding import decode, decoding_function
from rnnzoo.metrics import corpus_bleu, plot_caption_grid, wer
from rnnzoo.tasks import recipe
from rnnzoo.training import parse_config, recipe_parser

BUILTINS = ("digit_strips", "shapes")
DECODE_BATCH = 256
BACKBONES = {  # keras.applications name -> (constructor, preprocessing input range)
    "mobilenet_v3_small": ("MobileNetV3Small", (0.0, 255.0)),
    "mobilenet_v2": ("MobileNetV2", (-1.0, 1.0)),
    "efficientnet_b0": ("EfficientNetB0", (0.0, 255.0)),
    "resnet50": ("ResNet50", None),
}


def build_parser():
    parser = recipe_parser("python -m recipes.captioning", "Train an image captioner.",
                           units=256, embedding_dim=64, epochs=20, batch_size=64, dropout=0.2,
                           bidirectional=False, patience=4)
    group = parser.add_argument_group("captioning")
    group.add_argument("--builtin", choices=BUILTINS, default="digit_strips", help="built-in data for --data builtin")
    group.add_argument("--builtin-size", type=int, default=None,
                       help="training examples generated for built-in data (default 3,000)")
    group.add_argument("--images", default=None, help="image (or .npy feature) folder of a captions file")
    group.add_argument("--image-size", type=int, nargs=2, default=(64, 64), metavar=("HEIGHT", "WIDTH"),
                       help="images from files are resized to this")
    group.add_argument("--image-encoder", choices=("cnn",) + tuple(BACKBONES), default="cnn")
    group.add_argument("--weights", choices=("imagenet", "none"), default="imagenet",
                       help="backbone weights (imagenet downloads them once into ~/.keras)")
    group.add_argument("--cnn-filters", type=int, nargs="+", default=(32, 64, 128))
    group.add_argument("--attention", choices=("luong", "bahdanau", "none"), default="luong",
                       help="attention over the CNN feature map (cnn encoder only)")
    group.add_argument("--augment", type=float, nargs=3, default=(0.0, 0.0, 0.0),
                       metavar=("TRANSLATION", "ZOOM", "ROTATION"),
                       help="random image translation, zoom and rotation while training (cnn encoder), "
                            "e.g. 0.05 0.1 0.02; off by default: on the built-in digit strips it lowered "
                            "validation accuracy")
    group.add_argument("--beam-size", type=int, default=3)
    group.add_argument("--length-penalty", type=float, default=0.0)
    return parser


def _load_path(config):
    def load(path):
        if config.images is None:
            raise SystemExit(f"--data {path}: give --images, the folder the captions file's images are in.")
        return formats.load_captions(path, config.images)
    return load


def _pixels(config, examples):
    """`(n, ...)` float32 inputs: built-in arrays, image files resized to
    `--image-size`, or `.npy` feature vectors."""
    first = examples[0].image
    if not isinstance(first, str):
        return np.stack([e.image for e in examples]).astype("float32")
    if first.endswith(".npy"):
        return np.stack([np.load(e.image, allow_pickle=False).reshape(-1) for e in examples]).astype("float32")
    return np.stack([formats.load_image(e.image, tuple(config.image_size)) for e in examples]).astype("float32")


def backbone(config, image_shape):
    """A frozen `keras.applications` model: image in [0, 1] -> pooled features."""
    name, value_range = BACKBONES[config.image_encoder]
    base = getattr(keras.applications, name)(include_top=False, pooling="avg", input_shape=tuple(image_shape),
                                            weights=None if config.weights == "none" else config.weights)
    base.trainable = False
    image = keras.Input(tuple(image_shape), name="image")
    scaled = image
    if value_range is not None:
        low, high = value_range
        scaled = keras.layers.Rescaling(high - low, offset=low, name="backbone_range")(image)
    return keras.Model(image, base(scaled), name=f"{config.image_encoder}_features")


def _vocabulary(run, train):
    folder = run.file("tokens")
    if os.path.isdir(folder):
        return TextEncoder.load(folder)
    encoder = TextEncoder.adapt([c for e in train for c in e.captions], tokenizer="word")
    encoder.save(folder)
    return encoder


def _dataset(inputs, encoder, examples, key):
    """One training example per (image, caption); teacher forcing."""
    rows, captions = [], []
    for index, example in enumerate(examples):
        for caption in example.captions:
            rows.append(index)
            captions.append(caption)
    ids = encoder.encode_to_lists(captions)
    images = inputs[np.asarray(rows)]
    import tensorflow as tf

    tokens = ragged_dataset([[START_ID] + i for i in ids], [i + [END_ID] for i in ids])
    pixels = tf.data.Dataset.from_tensor_slices(images)
    return tf.data.Dataset.zip((pixels, tokens)).map(lambda x, t: ({key: x, "decoder_tokens": t[0]}, t[1]))


def caption_ids(model, inputs, *, max_length, beam_size, length_penalty):
    return in_length_order(lambda batch: decode(model, batch, max_length=max_length, beam_size=beam_size,
                                                length_penalty=length_penalty), inputs, DECODE_BATCH)


def to_text(encoder, rows):
    """Generated id rows -> captions (Python strings)."""
    from rnnzoo.exporting.text_serving import rows_to_text

    return rows_to_text(encoder, rows)


def score(references, hypotheses):
    """BLEU-1..4 against all references, WER against the first one."""
    split_references = [[r.lower().split() for r in refs] for refs in references]
    split_hypotheses = [h.split() for h in hypotheses]
    scores = {f"bleu_{n}": corpus_bleu(split_references, split_hypotheses, max_order=n) for n in range(1, 5)}
    scores["wer"] = wer([refs[0].lower() for refs in references], hypotheses)
    return scores


def serving_function(model, encoder, features=None, *, max_length, beam_size, length_penalty):
    """`image` batch -> `caption` strings and `token_ids`, one graph."""
    from rnnzoo.exporting.text_serving import ids_to_text

    decode = decoding_function(model, max_length=max_length, beam_size=beam_size, length_penalty=length_penalty)

    def serve(image):
        ids = decode(image if features is None else features(image))
        return {"caption": ids_to_text(encoder, ids), "token_ids": ids}

    return serve


def export_serving(run, model, encoder, image_shape, features, test_images, expected, **decoding):
    import tensorflow as tf

    from rnnzoo.exporting.text_serving import export_text_model, load_signature

    spec = tf.TensorSpec([None, *image_shape], tf.float32, name="image")
    track = [model] + ([features] if features is not None else [])
    folder = export_text_model(run.file("saved_model"),
                               serving_function(model, encoder, features, **decoding), track=track,
                               input_signature=(spec,))
    count = min(len(test_images), 256)
    served = load_signature(folder)(image=tf.constant(test_images[:count]))["caption"].numpy()
    served = [c.decode("utf-8") for c in served]
    check = {"examples": count, "agreement": float(np.mean([a == b for a, b in zip(served, expected)]))}
    print(f"SavedModel (image in, caption out): {folder}; same caption as the Python decoder for "
          f"{check['agreement']:.1%} of {count} test images")
    return check


def main(argv=None):
    config = parse_config(build_parser(), argv)
    if config.bidirectional:
        raise SystemExit("a caption decoder generates left to right: drop --bidirectional")
    splits = None
    if config.data == "builtin" and config.builtin_size:
        sizes = {"train": {"size": config.builtin_size}}
        splits = {split: load_builtin(config.builtin, split, **sizes.get(split, {}))
                  for split in ("train", "validation", "test")}
    splits, run = recipe.start("captioning", config, builtin=config.builtin, load_path=_load_path(config),
                               splits=splits)
    encoder = _vocabulary(run, splits["train"])
    raw = {split: _pixels(config, examples) for split, examples in splits.items()}
    image_shape = raw["train"].shape[1:]
    inputs, features = raw, None
    if config.image_encoder != "cnn":
        if len(image_shape) != 3:
            raise SystemExit(f"--image-encoder {config.image_encoder} needs images, got inputs of shape {image_shape}.")
        features = backbone(config, image_shape)
        inputs = {split: features.predict(x, batch_size=64, verbose=0) for split, x in inputs.items()}
        print(f"{config.image_encoder} features: {inputs['train'].shape[1]} per image")
    key = "image" if inputs["train"].ndim == 4 else "features"
    augmentation = {k: v for k, v in zip(("translation", "zoom", "rotation"), config.augment) if v}
    model_options = dict(image_shape=list(image_shape), cnn_filters=list(config.cnn_filters),
                         attention=None if config.attention == "none" else config.attention,
                         image_augmentation=augmentation or None)
    if key == "features":
        model_options = dict(input_dim=int(inputs["train"].shape[1]))

    with recipe.distribution(config).scope():
        model = rnnzoo.build_model(
            "one_to_many", vocab_size=encoder.vocab_size, cell=config.cell, units=config.units,
            num_layers=config.num_layers, dropout=config.dropout, embedding_dim=config.embedding_dim,
            compile=False, **model_options,
        )
        recipe.compile_model(model, config)
    train_set = _dataset(inputs["train"], encoder, splits["train"], key)
    lengths = [len(ids) + 1 for ids in encoder.encode_to_lists(c for e in splits["train"] for c in e.captions)]
    model, state = recipe.train(
        model, recipe.epoch_batches(train_set, config, lengths),
        recipe.ordered_batches(_dataset(inputs["validation"], encoder, splits["validation"], key), config), run, config,
        monitor="val_loss", mode="min",
    )

    max_length = max(lengths) + 5
    references = [e.captions for e in splits["test"]]
    metrics, captions = {}, {}
    for name, beam_size in (("greedy", 1), ("beam", config.beam_size)):
        rows = caption_ids(model, inputs["test"], max_length=max_length, beam_size=beam_size,
                           length_penalty=config.length_penalty)
        captions[name] = to_text(encoder, rows)
        metrics.update({f"{k}_{name}" if name == "greedy" else k: v
                        for k, v in score(references, captions[name]).items()})
    for example, caption in list(zip(splits["test"], captions["beam"]))[:5]:
        print(f"  reference: {example.captions[0]}\n  output:    {caption}\n")
    shown = 12
    if raw["test"].ndim == 4:  # images, not precomputed features
        plot_caption_grid(raw["test"][:shown], captions["beam"][:shown], [r[0] for r in references[:shown]],
                          run.file("captions.png"))
    decoding = {"max_length": max_length, "beam_size": config.beam_size, "length_penalty": config.length_penalty}
    serving = None
    if raw["test"].ndim == 4:
        serving = export_serving(run, model, encoder, image_shape, features, raw["test"], captions["beam"],
                                 **decoding)
    card = None
    if serving is not None:
        card = {"title": f"Image captioner: {os.path.basename(run.path)}", "metric_name": "bleu_4",
                "description": f"{config.image_encoder} image encoder and a {config.cell.upper()} decoder with "
                               f"{config.attention} attention; beam search (beam {config.beam_size}).",
                "split_sizes": {k: len(v) for k, v in splits.items()}, "serving_check": serving,
                "text_example": None, "input_kind": "image"}
    dataset = config.data if config.data != "builtin" else config.builtin
    recipe.finish(run, config, model, metrics, state, dataset=dataset,
                  num_examples=len(references), extra={"serving_check": serving, "decoding": decoding}, card=card)
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
