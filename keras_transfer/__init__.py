"""keras-transfer: transfer learning and domain adaptation with Keras 3.

Importing the package is cheap: subpackages (and so Keras, TensorFlow and TF-Hub) are imported
the first time you touch them, e.g. ``keras_transfer.backbones``.

Importing it also keeps TensorFlow's C++ start-up log lines (oneDNN, cpu_feature_guard, a failed
cuInit on a machine without a GPU) off the terminal when TensorFlow is imported afterwards, by
keras_transfer or by ``import keras``; it sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless you set it.
Python warnings are not touched. ``KERAS_TRANSFER_VERBOSE_TF=1`` turns this off; see
`keras_transfer.quiet_tf`.

Example:
    >>> import keras_transfer
    >>> keras_transfer.__version__
    '0.1.0'
"""

import importlib

from keras_transfer import quiet_tf

quiet_tf.install()

__version__ = "0.1.0"

_SUBMODULES = (
    "adaptation",
    "api_export",
    "atomic_files",
    "backbones",
    "callbacks",
    "cli",
    "datasets",
    "image_io",
    "io_utils",
    "layers",
    "models",
    "plots",
    "policies",
    "quiet_tf",
    "ranking",
    "safe_mode",
    "schedules",
    "sklearn",
    "streaming",
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
