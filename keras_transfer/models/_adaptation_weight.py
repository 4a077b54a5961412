"""The adaptation weight of a two-domain model: a float, or a schedule evaluated in the graph."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import ArgumentTypeError, check_float, check_int
from keras_transfer.schedules.reversal_schedule import ReversalSchedule, add_step_counters


def check_adaptation_weight(value):
    """``value`` as a float >= 0 or a `ReversalSchedule` (a serialized one is deserialized)."""
    if isinstance(value, dict):  # from a config
        value = keras.saving.deserialize_keras_object(value)
    if isinstance(value, ReversalSchedule):
        return value
    try:
        return check_float(value, "adaptation_weight", min_value=0.0)
    except TypeError as exc:
        raise ArgumentTypeError(
            f"{exc} Pass a number or a keras_transfer.schedules.ReversalSchedule."
        ) from None


def serialize_adaptation_weight(value):
    """What ``get_config`` stores for an adaptation weight (a float or a serialized schedule)."""
    return keras.saving.serialize_keras_object(value) if isinstance(value, ReversalSchedule) else value


class ScheduledWeight(keras.layers.Layer):
    """A loss weight that follows a `ReversalSchedule` over the training steps.

    Counts its training calls in the non-trainable variable ``step`` (one per optimizer step: the
    model calls it once per training forward pass) and evaluates the schedule in the graph, so
    the weight is exact with ``steps_per_execution > 1``; the same counting as
    `keras_transfer.layers.GradientReversal`, for the models whose weight multiplies a loss.
    """

    def __init__(self, schedule: ReversalSchedule, **kwargs):
        super().__init__(**kwargs)
        self.scale = schedule
        self.step, self.total_steps = add_step_counters(self, schedule.total_steps)

    @property
    def schedule(self) -> ReversalSchedule:
        return self.scale

    def set_total_steps(self, total_steps: int) -> None:
        """Set the planned number of training steps used by the schedule."""
        total_steps = check_int(total_steps, "total_steps", min_value=1)
        self.scale = ReversalSchedule(**{**self.scale.get_config(), "total_steps": total_steps})
        self.total_steps.assign(float(total_steps))

    def value(self, training: bool = False):
        """The weight of this step, a float32 tensor; a training call also counts the step."""
        if self.scale.needs_total_steps and self.scale.total_steps is None:
            if training:
                raise ValueError(
                    f"adaptation_weight={self.scale!r} needs the planned number of steps: train "
                    "with fit (which sets it), or pass total_steps= to the schedule."
                )
            weight = ops.zeros((), "float32")
        else:
            weight = self.scale(self.step, total_steps=self.total_steps)
        if training:
            self.step.assign_add(ops.cast(1, "int32"))
        return weight
