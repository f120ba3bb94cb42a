from rnnzoo.topologies.many_to_many import ManyToMany
from rnnzoo.topologies.many_to_one import ManyToOne

HEADS = {"classifier": ManyToOne, "tagger": ManyToMany}


def bidirectional(head="classifier", **kwargs):
    """A bidirectional recurrent model, for those who ask for one by name.

    `head="classifier"` builds a `ManyToOne` (one label per sequence),
    `head="tagger"` a `ManyToMany` (one tag per step), each with
    `bidirectional=True`. Every other argument goes to that class.
    """
    if head not in HEADS:
        raise ValueError(
            f"`head` must be one of {', '.join(map(repr, HEADS))}, got {head!r}."
        )
    if kwargs.get("bidirectional", True) is not True:
        raise ValueError(
            "The 'bidirectional' model is always bidirectional; got "
            f"bidirectional={kwargs['bidirectional']!r}. Use 'many_to_one' or "
            "'many_to_many' for a unidirectional model."
        )
    kwargs["bidirectional"] = True
    return HEADS[head](**kwargs)


# `build_model` checks arguments against the classes this builder forwards to.
bidirectional.dispatches_to = tuple(HEADS.values())
