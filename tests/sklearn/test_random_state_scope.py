"""``random_state`` makes ``fit`` reproducible without reseeding the user's global generators."""

import random

import numpy as np

from keras_transfer.sklearn import DomainAdaptationClassifier, FineTunedClassifier
from tests.sklearn._tiny import TINY_CNN


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8), np.arange(n) % 2


def _draws():
    return np.random.rand(3), random.random()


def _check_scoped(make, fit):
    np.random.seed(123)
    random.seed(123)
    expected = _draws()
    np.random.seed(123)
    random.seed(123)
    first = fit(make())
    after = _draws()
    np.testing.assert_array_equal(after[0], expected[0])  # numpy's global stream continues as before
    assert after[1] == expected[1]  # so does Python's
    second = fit(make())
    np.testing.assert_allclose(first, second, atol=1e-6)  # and fit is still reproducible


def test_fine_tuned_classifier_random_state_leaves_global_generators_alone():
    X, y = _data()

    def make():
        return FineTunedClassifier(**TINY_CNN, head_epochs=1, epochs=1, batch_size=8, random_state=0)

    _check_scoped(make, lambda clf: clf.fit(X, y).predict_proba(X))


def test_domain_adaptation_classifier_random_state_leaves_global_generators_alone():
    X, y = _data()
    X_target, _ = _data(seed=1)

    def make():
        return DomainAdaptationClassifier(**TINY_CNN, method="dann", epochs=1, batch_size=8, random_state=0)

    _check_scoped(make, lambda clf: clf.fit(X, y, X_target=X_target).predict_proba(X_target))
