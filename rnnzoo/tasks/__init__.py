"""Tasks: what a user holds after training. A task reads its data files,
scores predictions with its field's metric, and serves a finished run folder
(`saved_models/<recipe>/<run>/`): `rnnzoo predict`, `rnnzoo evaluate` and
`rnnzoo export` work here. This floor sits above `training/` and
`exporting/` (which never import each other) and is what recipes build on:
`recipe.py` holds the steps every recipe takes, in order.
"""
