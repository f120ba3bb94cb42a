"""Built-in datasets: seeded, split apart, and built so the topology matters."""

import numpy as np
import pytest

from rnnzoo import data
from rnnzoo.data.builtin import BUILTINS
from rnnzoo.data.builtin import images as builtin_images
from rnnzoo.data.builtin import sentiment as builtin_sentiment


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtins_are_deterministic_and_splits_differ(name):
    first = data.load_builtin(name, "train", size=50)
    again = data.load_builtin(name, "train", size=50)
    test = data.load_builtin(name, "test", size=50)

    def key(examples):
        if isinstance(examples, str):
            return examples
        return [tuple(np.asarray(x).tobytes() if isinstance(x, np.ndarray) else str(x) for x in e)
                for e in examples]

    assert key(first) == key(again)
    assert key(first) != key(test)
    assert len(first) == 50 or name == "characters"


def test_builtin_unknown_name_or_split():
    with pytest.raises(ValueError, match="unknown built-in dataset 'imdb'"):
        data.load_builtin("imdb")
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_builtin("sentiment", "dev")


def test_sentiment_word_order_decides_some_labels():
    examples = data.load_builtin("sentiment", "train")
    labels = {e.label for e in examples}
    assert labels == {"0", "1"}
    by_bag = {}
    for e in examples:
        by_bag.setdefault(tuple(sorted(e.text.split())), set()).add(e.label)
    assert any(len(v) == 2 for v in by_bag.values())  # same words, both labels
    # "X but Y": the second clause decides.
    positive, negative = builtin_sentiment.POSITIVE[0], builtin_sentiment.NEGATIVE[0]
    for e in examples:
        words = e.text.split()
        if "but" in words and words[-1] in (positive, negative) and not set(words) & set(builtin_sentiment.FLIPPERS):
            assert e.label == ("1" if words[-1] == positive else "0")


def test_tags_depend_on_the_right_context():
    """The same left context (prefix) is followed by different tags, decided
    by the next word: a left-to-right tagger cannot get both right."""
    for scheme in ("pos", "ner"):
        by_prefix = {}
        for sentence in data.load_builtin(scheme, "train"):
            for i in range(len(sentence.words)):
                by_prefix.setdefault(tuple(sentence.words[: i + 1]), set()).add(sentence.tags[i])
        assert any(len(tags) > 1 for tags in by_prefix.values()), scheme
    sentences = data.load_builtin("ner", "train")
    assert any(s.words[:2] == ["paris", "hilton"] and s.tags[0] == "B-PER" for s in sentences)
    assert any(s.words[0] == "paris" and s.words[1] != "hilton" and s.tags[0] == "B-LOC" for s in sentences)


def test_translation_reorders_and_agrees():
    pairs = data.load_builtin("translation", "train", size=200)
    for pair in pairs:
        source, target = pair.source.split(), pair.target.split()
        assert target[-1] == "." and target[-2] in {"vide", "viden", "ama", "aman", "sigue", "siguen",
                                                    "trova", "trovan"}
        plural_subject = source[0] == "some" or source[source.index(next(w for w in source if w in
                         {"sees", "see", "likes", "like", "follows", "follow", "finds", "find"})) - 1].endswith("s")
        assert target[-2].endswith("n") == plural_subject


def test_digit_strips_use_disjoint_digit_images_per_split():
    pools = {split: set(builtin_images._digit_pool(split)[2].tolist()) for split in data.builtin.SPLITS}
    assert not pools["train"] & pools["test"] and not pools["train"] & pools["validation"]
    strips = data.load_builtin("digit_strips", "test", size=20)
    for strip in strips:
        words = strip.captions[0].split()
        assert 2 <= len(words) <= 6 and strip.image.shape == (16, 96, 1)
        width = 16 * len(words)
        assert not strip.image[:, width:].any() and strip.image[:, :width].max() > 0.5  # right-padded


def test_shape_scene_captions_match_the_pixels():
    scenes = data.load_builtin("shapes", "test", size=40)
    assert all(len(scene.captions) == 2 for scene in scenes)  # both orders of the two objects
    for scene, caption in [(scene, caption) for scene in scenes for caption in scene.captions]:
        words = caption.split()
        relation = " ".join(words[4:6]) if words[5] == "of" else words[4]
        first_colour = builtin_images.COLOURS[words[2]]
        second_colour = builtin_images.COLOURS[words[-2]]

        def centre(colour):
            ys, xs = np.nonzero(np.all(np.isclose(scene.image, colour), axis=-1))
            return ys.mean(), xs.mean()

        if first_colour == second_colour:
            continue
        (y1, x1), (y2, x2) = centre(first_colour), centre(second_colour)
        expected = {"left of": x1 < x2, "right of": x1 > x2, "above": y1 < y2, "below": y1 > y2}
        assert expected[relation], caption


def test_character_corpus_size_and_alphabet():
    text = data.load_builtin("characters", "validation")
    assert 12_000 <= len(text) < 12_500 and len(set(text)) < 40 and "\n\n" in text


def test_document_labels_follow_the_verdict_sentence_not_the_word_counts():
    from rnnzoo.data.builtin import documents

    reviews = data.load_builtin("documents", "train", size=400)
    verdicts = [next(line for line in e.text.split("\n") if line.startswith(tuple(documents.VERDICTS)))
                for e in reviews]
    assert all(len(e.text.split("\n")) >= 4 for e in reviews)
    # Counting positive against negative words over the whole review is near chance.
    positive, negative = set(builtin_sentiment.POSITIVE), set(builtin_sentiment.NEGATIVE)
    votes = [sum((w in positive) - (w in negative) for w in e.text.split()) for e in reviews]
    agree = np.mean([(v > 0) == (e.label == "pos") for v, e in zip(votes, reviews) if v != 0])
    assert agree < 0.75
    # The verdict sentence alone is a sentiment example of the sentence set's grammar, and it decides.
    assert len(set(verdicts)) > 100 and {e.label for e in reviews} == {"pos", "neg"}
