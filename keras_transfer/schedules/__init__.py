"""Schedules evaluated in the graph from the optimizer's step: the reversal weight (lambda) of
DANN-style models and the DANN paper's learning-rate annealing. They are not callbacks (Keras
keeps `keras.optimizers.schedules` apart from `keras.callbacks`)."""

from keras_transfer.schedules.dann_learning_rate import DANNLearningRate
from keras_transfer.schedules.reversal_schedule import ReversalSchedule

__all__ = ["DANNLearningRate", "ReversalSchedule"]
