"""The scikit-learn door: estimators that wrap keras_transfer backbones and models.

Example:
    >>> from keras_transfer.sklearn import FeatureExtractor
    >>> FeatureExtractor(backbone="mobilenet_v3_small", weights=None).get_params()["pooling"]
    'avg'
"""

from keras_transfer.sklearn._cache import clear_feature_cache, feature_cache_info, set_feature_cache_size
from keras_transfer.sklearn.domain_adaptation_classifier import DomainAdaptationClassifier
from keras_transfer.sklearn.feature_extractor import FeatureExtractor
from keras_transfer.sklearn.fine_tuned_classifier import FineTunedClassifier

__all__ = [
    "DomainAdaptationClassifier",
    "FeatureExtractor",
    "FineTunedClassifier",
    "clear_feature_cache",
    "feature_cache_info",
    "set_feature_cache_size",
]
