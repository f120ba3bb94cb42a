"""Image captioning (the captioning recipe): images from files or built-in
arrays, an optional frozen `keras.applications` backbone, caption vocabulary
and teacher-forcing datasets, decoding in batches, BLEU / WER scoring, and
the SavedModel that maps an image batch to captions (beam search in the
graph).

A run folder holds `tokens/` (the caption `TextEncoder`) and `saved_model/`.
"""

import keras
import numpy as np

from rnnzoo.data import formats, teacher_forcing
from rnnzoo.data.batching import in_length_order, ragged_dataset
from rnnzoo.data.text_encoder import TextEncoder
from rnnzoo.decoding import decode, decoding_function
from rnnzoo.exporting.text_serving import export_text_model, load_signature
from rnnzoo.metrics import corpus_bleu, wer
from rnnzoo.tasks import Evaluation
RECIPE = "captioning"
DATASETS = ()
DECODE_BATCH = 256
BACKBONES = {  # keras.applications name -> (constructor, preprocessing input range)
    "mobilenet_v3_small": ("MobileNetV3Small", (0.0, 255.0)),
    "mobilenet_v2": ("MobileNetV2", (-1.0, 1.0)),
    "efficientnet_b0": ("EfficientNetB0", (0.0, 255.0)),
    "resnet50": ("ResNet50", None),
}


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


def fit_images(images, image_shape):
    """Float images `(batch, height, width, channels)` in [0, 1] of any size
    and with 1 (gray), 3 (RGB) or 4 (RGBA) channels -> the model's
    `image_shape`: colour mode converted, then resized (bilinear), in graph ops."""
    import tensorflow as tf

    height, width, channels = image_shape
    images = tf.convert_to_tensor(images, tf.float32)
    found = tf.shape(images)[-1]
    if channels == 1:
        images = tf.cond(found == 1, lambda: images[..., :1], lambda: tf.image.rgb_to_grayscale(images[..., :3]))
    else:
        images = tf.cond(found == 1, lambda: tf.image.grayscale_to_rgb(images[..., :1]), lambda: images[..., :3])
    size = tf.shape(images)[1:3]
    same = tf.logical_and(tf.equal(size[0], height), tf.equal(size[1], width))
    images = tf.cond(same, lambda: images, lambda: tf.image.resize(images, (height, width)))
    return tf.ensure_shape(images, [None, height, width, channels])


def serving_function(model, encoder, features=None, *, image_shape, max_length, beam_size, length_penalty):
    """`image` batch of any size and colour mode -> `caption` strings and
    `token_ids`, one graph: fit the images to `image_shape`, encode, beam search, detokenize."""
    run = decoding_function(model, max_length=max_length, beam_size=beam_size, length_penalty=length_penalty)

    def serve(image):
        image = fit_images(image, image_shape)
        ids = run(image if features is None else features(image))
        return {"caption": encoder.ids_to_text(ids), "token_ids": ids}

    return serve


def export_serving(run, model, encoder, image_shape, features, test_images, expected, **decoding):
    """The image-in SavedModel, checked against the Python decoder's captions."""
    import tensorflow as tf

    spec = tf.TensorSpec([None, None, None, None], tf.float32, name="image")
    track = [model] + ([features] if features is not None else [])
    folder = export_text_model(run.file("saved_model"),
                               serving_function(model, encoder, features, image_shape=tuple(image_shape), **decoding),
                               track=track, input_signature=(spec,))
    count = min(len(test_images), 256)
    served = load_signature(folder)(image=tf.constant(test_images[:count]))["caption"].numpy()
    served = [c.decode("utf-8") for c in served]
    check = {"examples": count, "agreement": float(np.mean([a == b for a, b in zip(served, expected)]))}
    print(f"SavedModel (image in, caption out): {folder}; same caption as the Python decoder for "
          f"{check['agreement']:.1%} of {count} test images")
    return check


def load_path(path, encoding="utf-8", images=None):
    """A captions file (Flickr8k's `image#k<TAB>caption`) and its image folder."""
    if images is None:
        raise ValueError(f"--data {path}: give --images, the folder the captions file's images are in.")
    return formats.load_captions(path, images, encoding=encoding)


def evaluate_run(run_dir, examples, config):
    """Caption each image with the run's SavedModel (files are decoded,
    converted to its colour mode and resized to its size) and score BLEU-1..4
    against all references and WER against the first."""
    import os

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
