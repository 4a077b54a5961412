"""Shared fixtures: a fixed seed for every test, tiny shapes, and an isolated Keras cache."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


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
