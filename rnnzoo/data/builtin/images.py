"""Image captioning data made in code.

- Digit strips: 2 to 6 of scikit-learn's real handwritten digits
  (`load_digits`, 1,797 scans of 8x8 pixels) side by side, captioned "four
  one seven". The digit scans are partitioned once: strips of each split use
  only that split's scans, so no test digit image is seen in training.
- Shape scenes: two coloured shapes on a black canvas, captioned with
  colour, size, shape and their relation: "a large red circle left of a
  small blue square", with the equivalent "a small blue square right of a
  large red circle" as a second reference.
"""

import numpy as np

from rnnzoo.data.builtin.seeds import SPLITS, default_size, split_rng
from rnnzoo.data.examples import CaptionedImage

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# Share of the 1,797 digit scans each split draws from.
DIGIT_POOL_FRACTIONS = {"train": 0.7, "validation": 0.1, "test": 0.2}


def _digit_pool(split):
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(1797).permutation(len(digits.images))  # fixed partition
    cuts = np.cumsum([int(DIGIT_POOL_FRACTIONS[s] * len(order)) for s in SPLITS])
    start = 0 if split == "train" else cuts[SPLITS.index(split) - 1]
    indices = order[start:cuts[SPLITS.index(split)]]
    return digits.images[indices] / 16.0, digits.target[indices], indices


def digit_strips(split="train", size=None, min_digits=2, max_digits=6, scale=2, seed=0):
    """`CaptionedImage(image (8*scale, 8*max_digits*scale, 1) float32, [caption])`,
    the strip right-padded with black; 3,000 train, 300 validation and test."""
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}.")
    images, labels, _ = _digit_pool(split)
    rng = split_rng(split, seed)
    examples = []
    for _ in range(size or default_size(split, 3000, 300)):
        count = rng.integers(min_digits, max_digits + 1)
        chosen = rng.integers(len(images), size=count)
        strip = np.zeros((8, 8 * max_digits), "float32")
        strip[:, : 8 * count] = np.concatenate(list(images[chosen]), axis=1)
        strip = np.kron(strip, np.ones((scale, scale), "float32"))[..., None]
        examples.append(CaptionedImage(strip, [" ".join(DIGIT_WORDS[d] for d in labels[chosen])]))
    return examples


COLOURS = {"red": (1.0, 0.1, 0.1), "green": (0.1, 0.9, 0.2), "blue": (0.2, 0.3, 1.0),
           "yellow": (1.0, 0.9, 0.1)}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 3, "large": 6}
RELATIONS = ("left of", "right of", "above", "below")
INVERSE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}


def _draw(canvas, shape, colour, radius, cy, cx):
    yy, xx = np.mgrid[: canvas.shape[0], : canvas.shape[1]]
    if shape == "circle":
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2
    elif shape == "square":
        inside = (np.abs(yy - cy) <= radius) & (np.abs(xx - cx) <= radius)
    else:  # triangle pointing up
        inside = (yy >= cy - radius) & (yy <= cy + radius) & (np.abs(xx - cx) <= (yy - cy + radius) / 2)
    canvas[inside] = COLOURS[colour]


def shape_scenes(split="train", size=None, image_size=32, seed=0):
    """`CaptionedImage(image (image_size, image_size, 3) float32, [caption])`;
    3,000 train, 300 validation and test."""
    rng = split_rng(split, seed)
    half, examples = image_size // 2, []
    for _ in range(size or default_size(split, 3000, 300)):
        while True:
            objects = [(rng.choice(list(SIZES)), rng.choice(list(COLOURS)), rng.choice(SHAPES))
                       for _ in range(2)]
            if objects[0] != objects[1]:
                break
        relation = RELATIONS[rng.integers(len(RELATIONS))]
        canvas = np.zeros((image_size, image_size, 3), "float32")
        # The first object goes in the half its relation names; the second in the other.
        for i, (size_name, colour, shape) in enumerate(objects):
            radius = SIZES[size_name]
            in_second_half = (i == 0) == (relation in ("right of", "below"))
            along = rng.integers(radius, half - radius) + (half if in_second_half else 0)
            across = rng.integers(radius + 1, image_size - radius - 1)
            cy, cx = (across, along) if relation in ("left of", "right of") else (along, across)
            _draw(canvas, shape, colour, radius, cy, cx)
        first, second = (" ".join(o) for o in objects)
        # Both orders describe the scene ("A left of B" is "B right of A"): give both references.
        captions = [f"a {first} {relation} a {second}", f"a {second} {INVERSE[relation]} a {first}"]
        examples.append(CaptionedImage(canvas, captions))
    return examples
