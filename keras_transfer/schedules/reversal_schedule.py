"""The gradient-reversal weight as a function of the training step, computed in the graph."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import check_choice, check_float, check_int
from keras_transfer.api_export import export

KINDS = ("dann", "linear", "constant")


@export
class ReversalSchedule:
    """Gradient-reversal weight ``lambda_p`` as a function of training progress ``p``.

    ``p = min(step / total_steps, 1)`` where ``step`` counts optimizer updates. Kinds:

    * ``"dann"``: ``scale * (2 / (1 + exp(-gamma * p)) - 1)``, the ramp of Ganin et al.,
      "Domain-Adversarial Training of Neural Networks", JMLR 2016 (``gamma=10``).
    * ``"linear"``: ``scale * p``.
    * ``"constant"``: ``scale`` at every step (``total_steps`` is not needed).

    The schedule is evaluated with `keras.ops` inside the training graph (by
    `keras_transfer.layers.GradientReversal`), so it stays exact with ``steps_per_execution > 1``,
    where a per-batch callback would go stale.

    Args:
        kind: one of ``"dann"``, ``"linear"``, ``"constant"``.
        scale: the final (largest) weight, a float >= 0.
        gamma: steepness of the ``"dann"`` ramp, > 0.
        total_steps: planned number of optimizer steps, or ``None`` to be filled in later
            (`keras_transfer.models.DANN.fit` fills it from ``epochs`` and the data size).

    Example:
        >>> from keras_transfer.schedules import ReversalSchedule
        >>> schedule = ReversalSchedule("dann", total_steps=100)
        >>> [round(float(schedule(s)), 4) for s in (0, 10, 100, 200)]
        [0.0, 0.4621, 0.9999, 0.9999]
    """

    def __init__(
        self,
        kind: str = "dann",
        scale: float = 1.0,
        gamma: float = 10.0,
        total_steps: int | None = None,
    ):
        check_choice(kind, KINDS, "kind")
        scale = check_float(scale, "scale", min_value=0)
        gamma = check_float(gamma, "gamma", min_value=0, min_inclusive=False)
        total_steps = check_int(total_steps, "total_steps", min_value=1, allow_none=True)
        self.kind = kind
        self.scale = scale
        self.gamma = gamma
        self.total_steps = total_steps

    @property
    def needs_total_steps(self) -> bool:
        """Whether the value depends on ``total_steps`` (every kind but ``"constant"``)."""
        return self.kind != "constant"

    def __call__(self, step, total_steps=None):
        """Return the weight at ``step`` (a Python number or a tensor) as a float32 tensor.

        ``total_steps`` (number or tensor) overrides the configured one.
        """
        if self.kind == "constant":
            return ops.convert_to_tensor(self.scale, "float32")
        total = self.total_steps if total_steps is None else total_steps
        if total is None:
            raise ValueError(
                f"ReversalSchedule(kind={self.kind!r}) needs `total_steps`; received "
                "total_steps=None. Pass total_steps= (epochs * steps per epoch), or train through "
                "keras_transfer.models.DANN.fit, which fills it in."
            )
        step = ops.cast(step, "float32")
        total = ops.maximum(ops.cast(total, "float32"), 1.0)
        progress = ops.minimum(step / total, 1.0)
        if self.kind == "linear":
            return self.scale * progress
        return self.scale * (2.0 / (1.0 + ops.exp(-self.gamma * progress)) - 1.0)

    def get_config(self) -> dict:
        return {
            "kind": self.kind,
            "scale": self.scale,
            "gamma": self.gamma,
            "total_steps": self.total_steps,
        }

    @classmethod
    def from_config(cls, config: dict) -> ReversalSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"ReversalSchedule({args})"


def add_step_counters(layer, total_steps: int | None):
    """Add the non-trainable ``step`` (int32, 0) and ``total_steps`` (float32) variables through
    which ``layer`` evaluates a `ReversalSchedule` in the graph (one count per training call,
    first replica only under tf.distribute); returns ``(step, total_steps)``."""
    step = layer.add_weight(
        shape=(),
        dtype="int32",
        initializer="zeros",
        trainable=False,
        name="step",
        aggregation="only_first_replica",
    )
    total = layer.add_weight(
        shape=(),
        dtype="float32",
        initializer=keras.initializers.Constant(float(total_steps or 0)),
        trainable=False,
        name="total_steps",
        aggregation="only_first_replica",
    )
    return step, total
