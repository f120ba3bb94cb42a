"""A character-level corpus written by a seeded grammar: short verses with
names, places and repeated refrains, so a character model has spelling,
words and line structure to learn."""

from rnnzoo.data.builtin.seeds import split_rng

NAMES = ["old tom", "the miller", "young ann", "the king", "a sailor", "the baker's son", "mary"]
PLACES = ["by the river", "on the hill", "at the mill", "in the town", "down the lane", "by the sea"]
ACTIONS = ["sang a song", "lost a shoe", "found a key", "baked the bread", "rang the bell",
           "drank the wine", "told a tale", "lit a fire"]
TIMES = ["at dawn", "at noon", "one night", "in the rain", "in may", "on sunday"]
REFRAINS = ["and the wind went round and round.", "hey ho, the wind and the rain.",
            "so sing we all, so sing we all.", "and that was the end of the day."]


def _line(rng, pick):
    name, place, action, time = pick(NAMES), pick(PLACES), pick(ACTIONS), pick(TIMES)
    form = rng.integers(3)
    if form == 0:
        return f"{name} {action} {place} {time},"
    if form == 1:
        return f"{time} {name} {action},"
    return f"{place} {name} {action},"


def character_corpus(split="train", size=None, seed=0):
    """Verses joined by blank lines, about `size` characters (120,000 for
    train, 12,000 for validation and test by default)."""
    rng = split_rng(split, seed)

    def pick(items):
        return items[rng.integers(len(items))]

    target = size or (120_000 if split == "train" else 12_000)
    verses, total = [], 0
    while total < target:
        lines = [_line(rng, pick) for _ in range(1 + rng.integers(3))]
        lines.append(pick(REFRAINS))
        verse = "\n".join(lines).capitalize() + "\n"
        verses.append(verse)
        total += len(verse) + 1
    return "\n".join(verses)
