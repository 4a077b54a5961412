"""Schedules and callbacks: reversal weight, DANN learning rate, unsupervised validation,
gradual unfreezing."""

from keras_transfer.callbacks.dann_learning_rate import DANNLearningRate
from keras_transfer.callbacks.gradual_unfreezing import GradualUnfreezing
from keras_transfer.callbacks.reversal_schedule import ReversalSchedule
from keras_transfer.callbacks.unsupervised_validation import UnsupervisedValidation

__all__ = ["DANNLearningRate", "GradualUnfreezing", "ReversalSchedule", "UnsupervisedValidation"]
