"""Image captioning (the captioning recipe): images from files or built-in
arrays, an optional frozen `keras.applications` backbone, caption vocabulary
and teacher-forcing datasets, decoding in batches, BLEU / WER scoring, and
the SavedModel that maps an image batch to captions (beam search in the
graph).

A run folder holds `tokens/` (the caption `TextEncoder`) and `saved_model/`.
"""

import os

import keras
import numpy as np

from rnnzoo.data import formats, teacher_forcing
from rnnzoo.data.batching import in_length_order, ragged_dataset
from rnnzoo.data.reading import read_json
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.decoding import decode, decoding_function
from rnnzoo.exporting.text_serving import load_signature
from rnnzoo.metrics import corpus_bleu, wer
from rnnzoo.preprocessing.images import fit_images
from rnnzoo.tasks import Evaluation
from rnnzoo.tasks.base import Task
RECIPE = "captioning"
DATASETS = ()
DECODE_BATCH = 256
MAX_SERVING_CHECK = 256
FEATURES = "image_features.keras"
BACKBONES = {  # keras.applications name -> (constructor, preprocessing input range)
    "mobilenet_v3_small": ("MobileNetV3Small", (0.0, 255.0)),
    "mobilenet_v2": ("MobileNetV2", (-1.0, 1.0)),
    "efficientnet_b0": ("EfficientNetB0", (0.0, 255.0)),
    "resnet50": ("ResNet50", None),
}


def builtin_splits(config):
    """The built-in splits with `--builtin-size` training examples, or None
    (`recipe.start` reads the data as usual)."""
    if config.data != "builtin" or not config.builtin_size:
        return None
    from rnnzoo.data.builtin import load_builtin

    return {split: load_builtin(config.builtin, split, **({"size": config.builtin_size} if split == "train" else {}))
            for split in ("train", "validation", "test")}


def load_pixels(config, examples):
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


def image_encoder(config, raw):
    """`(inputs, features, model_options)` for `--image-encoder`: the raw
    images and the CNN options for `cnn`; for a backbone, its pooled
    features of every split (`features` is the frozen model, to serve raw
    images); precomputed feature vectors as they are."""
    image_shape = raw["train"].shape[1:]
    if config.image_encoder != "cnn":
        if len(image_shape) != 3:
            raise ValueError(f"--image-encoder {config.image_encoder} needs images, got inputs of shape "
                             f"{image_shape}.")
        features = backbone(config, image_shape)
        inputs = {split: features.predict(x, batch_size=64, verbose=0) for split, x in raw.items()}
        print(f"{config.image_encoder} features: {inputs['train'].shape[1]} per image")
        return inputs, features, {"input_dim": int(inputs["train"].shape[1])}
    if len(image_shape) == 1:  # precomputed feature vectors
        return raw, None, {"input_dim": int(image_shape[0])}
    augmentation = {k: v for k, v in zip(("translation", "zoom", "rotation"), config.augment) if v}
    return raw, None, {"image_shape": list(image_shape), "cnn_filters": list(config.cnn_filters),
                       "attention": None if config.attention == "none" else config.attention,
                       "image_augmentation": augmentation or None}


def caption_vocabulary(run, train):
    """The caption `TextEncoder` (read back when resuming, so ids match)."""
    return TextEncoder.resume_or_adapt(run.file("tokens"), [c for e in train for c in e.captions], tokenizer="word")


def caption_dataset(inputs, encoder, examples, key):
    """One training example per (image, caption); teacher forcing."""
    rows, captions = [], []
    for index, example in enumerate(examples):
        for caption in example.captions:
            rows.append(index)
            captions.append(caption)
    ids = encoder.encode_to_lists(captions)
    images = inputs[np.asarray(rows)]
    import tensorflow as tf

    tokens = ragged_dataset(*teacher_forcing(ids))
    pixels = tf.data.Dataset.from_tensor_slices(images)
    return tf.data.Dataset.zip((pixels, tokens)).map(lambda x, t: ({key: x, "decoder_tokens": t[0]}, t[1]))


def caption_ids(model, inputs, *, max_length, beam_size, length_penalty):
    return in_length_order(lambda batch: decode(model, batch, max_length=max_length, beam_size=beam_size,
                                                length_penalty=length_penalty), inputs, DECODE_BATCH)


def to_text(encoder, rows):
    """Generated id rows -> captions (Python strings)."""
    return encoder.decode(rows)


def score(references, hypotheses):
    """BLEU-1..4 against all references, WER against the first one."""
    split_references = [[r.lower().split() for r in refs] for refs in references]
    split_hypotheses = [h.split() for h in hypotheses]
    scores = {f"bleu_{n}": corpus_bleu(split_references, split_hypotheses, max_order=n) for n in range(1, 5)}
    scores["wer"] = wer([refs[0].lower() for refs in references], hypotheses)
    return scores


def serving_function(model, encoder, features=None, *, image_shape, max_length, beam_size, length_penalty):
    """`image` batch of any size and colour mode -> `caption` strings and
    `token_ids`, one graph: fit the images to `image_shape`, encode, beam search, detokenize."""
    run = decoding_function(model, max_length=max_length, beam_size=beam_size, length_penalty=length_penalty)

    def serve(image):
        image = fit_images(image, image_shape)
        ids = run(image if features is None else features(image))
        return {"caption": encoder.ids_to_text(ids), "token_ids": ids}

    return serve


def load_path(path, encoding="utf-8", images=None):
    """A captions file (Flickr8k's `image#k<TAB>caption`) and its image folder."""
    if images is None:
        raise ValueError(f"--data {path}: give --images, the folder the captions file's images are in.")
    return formats.load_captions(path, images, encoding=encoding)


def evaluate_run(run_dir, examples, config):
    """Caption each image with the run's SavedModel (files are decoded,
    converted to its colour mode and resized to its size) and score BLEU-1..4
    against all references and WER against the first."""
    serve = load_signature(os.path.join(run_dir, "saved_model"))
    return score([e.captions for e in examples], caption_images(serve, [e.image for e in examples]))


def caption_images(serve, images):
    """Captions from an image-in SavedModel signature of `images`: arrays
    (served in batches) or image files (decoded as RGB, one at a time; the
    graph fits them to the model; a SavedModel made before it did gets
    them fitted here)."""
    import tensorflow as tf

    (spec,) = serve.structured_input_signature[1].values()
    fixed = spec.shape[1:] if spec.shape[1] is not None else None
    captions = [None] * len(images)
    arrays = [i for i, image in enumerate(images) if not isinstance(image, str)]
    for start in range(0, len(arrays), DECODE_BATCH):
        chunk = arrays[start:start + DECODE_BATCH]
        batch = tf.constant(np.stack([np.asarray(images[i], "float32") for i in chunk]))
        for index, caption in zip(chunk, serve(image=batch)["caption"].numpy()):
            captions[index] = caption.decode("utf-8")
    for index, image in enumerate(images):
        if isinstance(image, str):
            pixels = formats.load_image(image, fixed[:2], channels=fixed[2]) if fixed else formats.load_image(image)
            captions[index] = serve(image=tf.constant(pixels[None]))["caption"].numpy()[0].decode("utf-8")
    return captions


EVALUATION = Evaluation(RECIPE, DATASETS, lambda config: config.get("builtin", "digit_strips"), load_path,
                        evaluate_run)


class Captioner(Task):
    """A captioner that takes raw images (float arrays in [0, 1] of any size
    and colour mode, or image files) and answers with captions: the caption
    `TextEncoder` and the image fitting (the preprocessor) and a
    `one_to_many` model whose CNN encoder starts (and, with attention, is
    read by) a recurrent decoder; beam search. With `features` (a frozen
    image model, e.g. a `keras.applications` backbone, saved beside the
    model as `image_features.keras`) the decoder reads its feature vectors.

    ```python
    captioner = Captioner.from_examples(images, captions, units=128, cnn_filters=[16, 32])
    captioner.fit(images, captions, epochs=10)          # captions: a string or a list of them per image
    captioner.predict(["photo.png"])                    # ["a red circle above a blue square"]
    captioner.evaluate(test_images, test_captions)["bleu_4"]
    ```
    """

    recipe = RECIPE
    serves = "image in, caption out"

    def __init__(self, encoder, model, features=None, max_length=20, beam_size=3, length_penalty=0.0):
        self.encoder, self.model, self.features = encoder, model, features
        self.max_length, self.beam_size, self.length_penalty = int(max_length), int(beam_size), float(length_penalty)
        image = features.inputs[0] if features is not None else next(
            (t for t in model.inputs if t.name in ("image", "features")), model.inputs[-1])
        self.image_shape = tuple(image.shape[1:])
        if len(self.image_shape) != 3:
            raise ValueError(f"a Captioner reads images; this model takes inputs of shape {self.image_shape} "
                             f"(feature vectors of an image model that was not saved with it, {FEATURES}).")

    @classmethod
    def from_examples(cls, images, captions, *, beam_size=3, length_penalty=0.0, **model_options):
        """The caption vocabulary of the training captions and the model
        (compiled) for images of the first image's shape."""
        from rnnzoo.topologies import build_model

        captions = _caption_lists(captions)
        encoder = TextEncoder.adapt([c for row in captions for c in row], tokenizer="word")
        pixels = cls._pixels(images, None)
        model = build_model("one_to_many", vocab_size=encoder.vocab_size, image_shape=list(pixels.shape[1:]),
                            **model_options)
        longest = max(len(row) for row in encoder.encode_to_lists(c for row in captions for c in row))
        return cls(encoder, model, max_length=longest + 6, beam_size=beam_size, length_penalty=length_penalty)

    @staticmethod
    def _pixels(images, image_shape):
        """Images (arrays, or files decoded as RGB) -> one float32 batch,
        fitted to `image_shape` (colour mode and size) when given."""
        if isinstance(images, np.ndarray) and image_shape is None:
            return images.astype("float32")
        rows = [formats.load_image(i) if isinstance(i, str) else np.asarray(i, "float32") for i in images]
        if image_shape is None:
            return np.stack(rows)
        return np.concatenate([np.asarray(fit_images(row[None], image_shape)) for row in rows])

    def pixels(self, images):
        return self._pixels(images, self.image_shape)

    def model_inputs(self, images):
        """What the decoder reads: the fitted images, or their features."""
        pixels = self.pixels(images)
        return pixels if self.features is None else self.features.predict(pixels, batch_size=64, verbose=0)

    def dataset(self, images, captions=None, *, batch_size=32, shuffle=False, seed=0):
        """Teacher-forcing batches, one example per (image, caption)."""
        from rnnzoo.data.batching import batch_dataset
        from rnnzoo.data.examples import CaptionedImage

        if captions is None:
            raise ValueError("a captioner trains on images and their captions: give both.")
        examples = [CaptionedImage(None, row) for row in _caption_lists(captions)]
        dataset = caption_dataset(self.model_inputs(images), self.encoder, examples,
                                  "image" if self.features is None else "features")
        count = sum(len(e.captions) for e in examples)
        return batch_dataset(dataset, batch_size, shuffle_buffer=count if shuffle else None, seed=seed)

    def predict(self, images, batch_size=None, beam_size=None):
        """A caption per image (beam search; `beam_size=1`: greedy)."""
        rows = caption_ids(self.model, self.model_inputs(images), max_length=self.max_length,
                           beam_size=self.beam_size if beam_size is None else beam_size,
                           length_penalty=self.length_penalty)
        return to_text(self.encoder, rows)

    def evaluate(self, images, captions, batch_size=None):
        """BLEU-1..4 against every reference and WER against the first."""
        return score(_caption_lists(captions), self.predict(images))

    def get_config(self):
        return {"max_length": self.max_length, "beam_size": self.beam_size, "length_penalty": self.length_penalty}

    @classmethod
    def run_options(cls, run_dir):
        path = os.path.join(run_dir, "metrics.json")
        decoding = read_json(path).get("decoding", {}) if os.path.exists(path) else {}
        return {k: decoding[k] for k in ("max_length", "beam_size", "length_penalty") if k in decoding}

    def save_assets(self, folder):
        from rnnzoo.utils.saving import save_model

        self.encoder.save(os.path.join(folder, "tokens"))
        if self.features is not None:
            save_model(self.features, os.path.join(folder, FEATURES))

    @classmethod
    def load_assets(cls, folder):
        from rnnzoo.utils.saving import load_model

        features = os.path.join(folder, FEATURES)
        return {"encoder": TextEncoder.load(os.path.join(folder, "tokens")),
                "features": load_model(features) if os.path.exists(features) else None}

    def serving(self):
        """`image` (a batch of any size and colour mode) -> `caption` and `token_ids`."""
        import tensorflow as tf

        serve = serving_function(self.model, self.encoder, self.features, image_shape=self.image_shape,
                                 **self.get_config())
        tracked = [self.model] + ([self.features] if self.features is not None else [])
        return serve, (tf.TensorSpec([None, None, None, None], tf.float32, name="image"),), tracked

    def export_check(self, signature, images):
        pixels = self.pixels(list(images)[:MAX_SERVING_CHECK] if not isinstance(images, np.ndarray)
                             else images[:MAX_SERVING_CHECK])
        served = caption_images(signature, list(pixels))
        return {"agreement": float(np.mean([a == b for a, b in zip(served, self.predict(pixels))]))}


def _caption_lists(captions):
    """A caption or a list of captions per image -> a list per image."""
    return [[row] if isinstance(row, str) else list(row) for row in captions]
