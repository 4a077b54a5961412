"""Small Keras layers: family preprocessing, gradient reversal."""
from keras_transfer.layers.family_preprocessing import FamilyPreprocessing

__all__ = ["FamilyPreprocessing"]
