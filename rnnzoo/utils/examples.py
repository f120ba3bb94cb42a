"""Raw examples as tasks take them: a list, an array (a row per example)
or a dict of arrays (a served model's named inputs, a row per example)."""


def count_examples(x):
    """How many examples `x` holds."""
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def first_examples(x, count):
    """The first `count` examples of `x`, in the same form."""
    return {key: value[:count] for key, value in x.items()} if isinstance(x, dict) else x[:count]
