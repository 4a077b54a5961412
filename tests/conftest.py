"""Shared fixtures: a fixed seed for every test, tiny shapes, and tiny real SavedModels."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from tests.backbones._hub_fixtures import save_hub_module, save_keras_export


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
