"""Schedules and callbacks: reversal weight, DANN learning rate, unsupervised validation."""
from keras_transfer.callbacks.dann_learning_rate import DANNLearningRate
from keras_transfer.callbacks.reversal_schedule import ReversalSchedule
from keras_transfer.callbacks.unsupervised_validation import UnsupervisedValidation

__all__ = ["DANNLearningRate", "ReversalSchedule", "UnsupervisedValidation"]
