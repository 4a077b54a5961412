"""keras-transfer: transfer learning and domain adaptation with Keras 3.

Importing the package is cheap: subpackages (and so Keras, TensorFlow and TF-Hub) are imported
the first time you touch them, e.g. ``keras_transfer.backbones``.

Example:
    >>> import keras_transfer
    >>> keras_transfer.__version__
    '0.1.0'
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "adaptation",
    "api_export",
    "backbones",
    "callbacks",
    "cli",
    "datasets",
    "image_io",
    "layers",
    "models",
    "plots",
    "policies",
    "ranking",
    "schedules",
    "sklearn",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'keras_transfer' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
