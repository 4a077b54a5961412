"""`Penalty`: the variable regularizer `L2SP` attaches, chained to the one it replaced."""

from __future__ import annotations

from keras import ops


class Penalty:
    """A variable regularizer ``scale / 2 * ||x - anchor||^2`` chained to the one it replaced."""

    def __init__(self, scale: float, anchor=None, previous=None):
        self.scale = scale
        self.anchor = anchor
        self.previous = previous

    def __call__(self, x):
        diff = x if self.anchor is None else x - self.anchor
        out = 0.5 * self.scale * ops.sum(ops.square(ops.cast(diff, "float32")))
        if self.previous is not None:
            out = out + self.previous(x)
        return out
