"""The scikit-learn door: estimators that wrap keras_transfer backbones and models.

Importing this package is cheap: each public name (and so Keras) is imported the first time it
is used, like the subpackages of ``keras_transfer``.

Example:
    >>> from keras_transfer.sklearn import FeatureExtractor
    >>> FeatureExtractor(backbone="mobilenet_v3_small", weights=None).get_params()["pooling"]
    'avg'
"""

import importlib

_PUBLIC = {
    "DomainAdaptationClassifier": "keras_transfer.sklearn.domain_adaptation_classifier",
    "FeatureExtractor": "keras_transfer.sklearn.feature_extractor",
    "FineTunedClassifier": "keras_transfer.sklearn.fine_tuned_classifier",
    "adapt_source_free": "keras_transfer.sklearn.source_free",
    "clear_feature_cache": "keras_transfer.sklearn._cache",
    "feature_cache_info": "keras_transfer.sklearn._cache",
    "set_feature_cache_size": "keras_transfer.sklearn._cache",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_transfer.sklearn' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
