"""Image captioning in the Flickr8k layout: a captions file of
`image.jpg#N<TAB>caption` lines plus a folder of images."""

import os

import numpy as np

from rnnzoo.data.examples import CaptionedImage
from rnnzoo.data.reading import DataFormatError, check_file, read_lines, require_examples


def load_captions(captions_path, image_folder, encoding="utf-8", check_images=True):
    """One `CaptionedImage(image path, [captions...])` per image, in order of
    first appearance. A line naming a missing image raises (with the line)."""
    by_image = {}
    for number, line in read_lines(captions_path, encoding):
        if not line.strip():
            continue
        key, tab, caption = line.partition("\t")
        name, hash_sign, index = key.rpartition("#")
        if not tab or not hash_sign or not name or not index.isdigit() or not caption.strip():
            raise DataFormatError(captions_path, number, f"expected `image.jpg#0<TAB>caption`, found {line!r}.")
        image_path = os.path.join(os.fspath(image_folder), name)
        if check_images and image_path not in by_image and not os.path.isfile(image_path):
            raise DataFormatError(captions_path, number, f"image {name!r} is not in {image_folder}.")
        by_image.setdefault(image_path, []).append(caption.strip())
    examples = [CaptionedImage(path, captions) for path, captions in by_image.items()]
    return require_examples(examples, captions_path, "captions")


def load_image(path, image_size=None, channels=3):
    """An image file (JPEG, PNG, BMP, GIF) as float32 in [0, 1], resized to
    `image_size` (height, width) when given."""
    import tensorflow as tf

    path = check_file(path)
    try:
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
    except tf.errors.InvalidArgumentError as error:
        reason = error.message.splitlines()[0].split("}}")[-1].split("[Op:")[0].strip()  # TensorFlow's, less its op
        raise DataFormatError(path, None, f"not a readable image ({reason}).") from None
    except UnicodeDecodeError:  # TensorFlow's message quoted bytes that are not UTF-8
        raise DataFormatError(path, None, "not a readable image (broken data).") from None
    image = tf.image.convert_image_dtype(image, tf.float32)
    if image_size is not None:
        image = tf.image.resize(image, image_size)
    return np.asarray(image)
