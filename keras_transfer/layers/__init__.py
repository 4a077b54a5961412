"""Small Keras layers: family preprocessing, gradient reversal."""

from keras_transfer.layers.family_preprocessing import FamilyPreprocessing
from keras_transfer.layers.gradient_reversal import GradientReversal

__all__ = ["FamilyPreprocessing", "GradientReversal"]
