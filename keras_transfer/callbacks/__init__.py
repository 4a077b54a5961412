"""Callbacks, things that run between epochs: trainability schedules (gradual unfreezing) and
unsupervised validation of domain adaptation."""

from keras_transfer.callbacks.unsupervised_validation import UnsupervisedValidation
from keras_transfer.policies.trainability_scheduler import TrainabilityScheduler

__all__ = ["TrainabilityScheduler", "UnsupervisedValidation"]
