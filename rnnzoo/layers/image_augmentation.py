import keras


@keras.saving.register_keras_serializable(package="rnnzoo")
class ImageAugmentation(keras.layers.Layer):
    """Random translation, zoom and rotation of an image batch while
    training only (`training=True`); the identity otherwise. Keras' random
    image layers default to `training=True` when a model is called without
    the argument, so they are wrapped here to keep inference deterministic.

    Args: `translation`, `zoom` (fractions of the image size) and `rotation`
    (a fraction of a full turn); 0 leaves that one out. Empty space is black,
    and pixels are moved by nearest-neighbour sampling: bilinear resampling
    would blur every training image while test images stay sharp.
    """

    def __init__(self, translation=0.0, zoom=0.0, rotation=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.translation, self.zoom, self.rotation, self.seed = float(translation), float(zoom), float(rotation), seed
        self.transforms = []
        if self.translation:
            self.transforms.append(keras.layers.RandomTranslation(self.translation, self.translation,
                                                                  fill_mode="constant", interpolation="nearest",
                                                                  seed=seed))
        if self.zoom:
            self.transforms.append(keras.layers.RandomZoom(self.zoom, fill_mode="constant",
                                                            interpolation="nearest", seed=seed))
        if self.rotation:
            self.transforms.append(keras.layers.RandomRotation(self.rotation, fill_mode="constant",
                                                                interpolation="nearest", seed=seed))

    def call(self, images, training=None):
        if not training:
            return images
        for transform in self.transforms:
            images = transform(images, training=True)
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "translation": self.translation, "zoom": self.zoom,
                "rotation": self.rotation, "seed": self.seed}
