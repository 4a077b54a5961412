"""Callbacks, things that run between epochs: gradual unfreezing and unsupervised validation."""

from keras_transfer.callbacks.gradual_unfreezing import GradualUnfreezing
from keras_transfer.callbacks.unsupervised_validation import UnsupervisedValidation

__all__ = ["GradualUnfreezing", "UnsupervisedValidation"]
