"""Images as a model reads them: float arrays in [0, 1] of any size and
colour mode fitted to the model's `(height, width, channels)` in graph ops
(`fit_images`), the same in Python and in a SavedModel."""


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
