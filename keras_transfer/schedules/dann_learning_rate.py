"""The learning-rate annealing of the DANN paper as a Keras LearningRateSchedule."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import check_float, check_int
from keras_transfer.api_export import export


@export
class DANNLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """``mu_p = initial_learning_rate / (1 + alpha * p) ** beta`` with ``p = step / total_steps``.

    The annealing used by Ganin et al., "Domain-Adversarial Training of Neural Networks",
    JMLR 2016 (``mu_0=0.01, alpha=10, beta=0.75``). ``p`` is clipped to 1 after ``total_steps``.
    Evaluated from the optimizer's iteration count, so it is exact with any
    ``steps_per_execution``.

    Args:
        total_steps: planned number of optimizer steps (epochs * steps per epoch), a positive int.
        initial_learning_rate: ``mu_0``, a float > 0.
        alpha: a float >= 0.
        beta: a float >= 0.

    Example:
        >>> import keras
        >>> from keras_transfer.schedules import DANNLearningRate
        >>> schedule = DANNLearningRate(total_steps=100)
        >>> round(float(schedule(0)), 5), round(float(schedule(100)), 5)
        (0.01, 0.00166)
        >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    """

    def __init__(
        self,
        total_steps: int,
        initial_learning_rate: float = 0.01,
        alpha: float = 10.0,
        beta: float = 0.75,
    ):
        self.total_steps = check_int(total_steps, "total_steps", min_value=1)
        self.initial_learning_rate = check_float(
            initial_learning_rate, "initial_learning_rate", min_value=0, min_inclusive=False
        )
        self.alpha = check_float(alpha, "alpha", min_value=0)
        self.beta = check_float(beta, "beta", min_value=0)

    def __call__(self, step):
        progress = ops.minimum(ops.cast(step, "float32") / float(self.total_steps), 1.0)
        return self.initial_learning_rate / ops.power(1.0 + self.alpha * progress, self.beta)

    def get_config(self) -> dict:
        return {
            "total_steps": self.total_steps,
            "initial_learning_rate": self.initial_learning_rate,
            "alpha": self.alpha,
            "beta": self.beta,
        }
