"""Small Keras layers: family preprocessing, gradient reversal, a weight-normalised dense layer."""

from keras_transfer.layers.family_preprocessing import FamilyPreprocessing
from keras_transfer.layers.gradient_reversal import GradientReversal
from keras_transfer.layers.weight_normalized_dense import WeightNormalizedDense

__all__ = ["FamilyPreprocessing", "GradientReversal", "WeightNormalizedDense"]
