"""Gradient reversal: identity on the way forward, gradient times -scale on the way back."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import ArgumentTypeError, check_float, check_int
from keras_transfer.api_export import export
from keras_transfer.schedules.reversal_schedule import ReversalSchedule, add_step_counters


@export
class GradientReversal(keras.layers.Layer):
    """Identity forward pass; multiplies the incoming gradient by ``-scale`` backward.

    The gradient-reversal layer of Ganin et al., "Domain-Adversarial Training of Neural
    Networks", JMLR 2016. Written with `keras.ops` only (``xs = stop_gradient(x);
    xs - scale * (x - xs)``), so it works on every Keras backend; the forward pass returns ``x``
    bit for bit.

    ``scale`` is a float or a `keras_transfer.schedules.ReversalSchedule`. With a schedule the
    layer counts its own training calls in a non-trainable variable ``step`` (one per optimizer
    step when the layer is called once per step) and evaluates the schedule in the graph, so the
    weight is exact with ``steps_per_execution > 1``. The value used by the last call is returned
    by ``current_scale()``.

    Args:
        scale: a float >= 0 or a `ReversalSchedule`.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.layers import GradientReversal
        >>> layer = GradientReversal(scale=0.5)
        >>> x = np.array([[1.0, -2.0]], "float32")
        >>> np.asarray(layer(x)).tolist()
        [[1.0, -2.0]]
        >>> inputs = keras.Input((2,))
        >>> outputs = keras.layers.Dense(1)(GradientReversal(scale=0.5)(inputs))
        >>> model = keras.Model(inputs, outputs)
    """

    def __init__(self, scale: float | ReversalSchedule = 1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(scale, dict):  # from a config
            scale = keras.saving.deserialize_keras_object(scale)
        if not isinstance(scale, ReversalSchedule):
            try:
                scale = check_float(scale, "scale", min_value=0)
            except TypeError as exc:
                raise ArgumentTypeError(
                    f"{exc} Pass a number or a keras_transfer.schedules.ReversalSchedule."
                ) from None
        self.scale = scale
        self.supports_masking = True
        total = scale.total_steps if isinstance(scale, ReversalSchedule) else None
        self.step, self.total_steps = add_step_counters(self, total)

    @property
    def schedule(self) -> ReversalSchedule | None:
        """The `ReversalSchedule`, or ``None`` for a constant float ``scale``."""
        return self.scale if isinstance(self.scale, ReversalSchedule) else None

    def set_total_steps(self, total_steps: int) -> None:
        """Set the planned number of training steps used by the schedule (no-op for a float)."""
        total_steps = check_int(total_steps, "total_steps", min_value=1)
        if self.schedule is not None:
            self.scale = ReversalSchedule(**{**self.schedule.get_config(), "total_steps": total_steps})
            self.total_steps.assign(float(total_steps))

    def current_scale(self, step=None):
        """The weight for ``step`` (default: the layer's step counter), a float32 tensor."""
        if self.schedule is None:
            return ops.convert_to_tensor(self.scale, "float32")
        if self.schedule.needs_total_steps and self.schedule.total_steps is None:
            raise ValueError(
                f"GradientReversal(scale={self.schedule!r}) needs the planned number of steps: "
                "call layer.set_total_steps(epochs * steps_per_epoch), pass total_steps= to the "
                "schedule, or train with keras_transfer.models.DANN, which sets it in fit()."
            )
        step = self.step if step is None else step
        return self.schedule(step, total_steps=self.total_steps)

    def call(self, inputs, training=False):
        schedule = self.schedule
        if (
            not training
            and schedule is not None
            and schedule.needs_total_steps
            and schedule.total_steps is None
        ):
            scale = ops.zeros((), "float32")  # inference: the forward pass ignores the weight
        else:
            scale = self.current_scale()
        if training and self.schedule is not None:
            self.step.assign_add(ops.cast(1, "int32"))
        scale = ops.cast(scale, inputs.dtype)
        stopped = ops.stop_gradient(inputs)
        return stopped - scale * (inputs - stopped)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        scale = self.scale
        if isinstance(scale, ReversalSchedule):
            scale = keras.saving.serialize_keras_object(scale)
        return {**super().get_config(), "scale": scale}
