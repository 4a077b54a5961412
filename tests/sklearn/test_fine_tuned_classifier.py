"""FineTunedClassifier: learns on real digits, any label type, round trips, clear errors."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score

from keras_transfer.sklearn import FineTunedClassifier
from tests.sklearn._tiny import TINY_CNN

NAMES = np.array(["zero", "one", "two"])


@pytest.fixture
def digits3():
    X, y = load_digits(n_class=3, return_X_y=True)
    return (X * (255 / 16)).reshape(-1, 8, 8).astype("uint8"), NAMES[y]


def _clf(**kw):
    from keras_transfer.policies import UnfreezeAll

    params = dict(
        TINY_CNN,
        policy=UnfreezeAll(),
        head_epochs=1,
        epochs=6,
        batch_size=32,
        learning_rate=3e-3,
        random_state=0,
    )
    return FineTunedClassifier(**{**params, **kw})


def test_fine_tuned_classifier_learns_digits_with_string_labels(digits3):
    X, y = digits3
    clf = _clf().fit(X[:300], y[:300])
    assert list(clf.classes_) == ["one", "two", "zero"]
    proba = clf.predict_proba(X[300:])
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    assert clf.predict(X[300:]).dtype.kind == "U"
    assert clf.score(X[300:], y[300:]) > 0.6  # chance is 1/3
    assert clf.history_["phase"] == ["head"] + ["fine_tune"] * 6


def test_fine_tuned_classifier_round_trips_and_cross_val(digits3):
    X, y = digits3
    clf = _clf(epochs=1).fit(X[:64], y[:64])
    expected = clf.predict_proba(X[64:96])
    np.testing.assert_allclose(
        pickle.loads(pickle.dumps(clf)).predict_proba(X[64:96]), expected, rtol=1e-5, atol=1e-6
    )
    import io

    import joblib

    buf = io.BytesIO()
    joblib.dump(clf, buf)
    buf.seek(0)
    np.testing.assert_allclose(joblib.load(buf).predict_proba(X[64:96]), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        clone(clf).fit(X[:64], y[:64]).predict_proba(X[64:96]), expected, rtol=1e-4, atol=1e-5
    )
    assert cross_val_score(_clf(epochs=1), X[:60], y[:60], cv=2).shape == (2,)


def test_fine_tuned_classifier_errors(digits3):
    X, y = digits3
    with pytest.raises(NotFittedError):
        _clf().predict(X[:2])
    with pytest.raises(ValueError, match="`epochs` must be an integer >= 0"):
        _clf(epochs=-1).fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="at least 2 classes"):
        _clf().fit(X[:8], np.array(["zero"] * 8))
    clf = _clf(epochs=0, head_epochs=1).fit(X[:32], y[:32])
    with pytest.raises(ValueError, match="labels never seen in fit: \\['seven'\\]"):
        clf.score(X[:2], np.array(["zero", "seven"]))
    with pytest.raises(ValueError, match="1 \\(grayscale\\) or 3 \\(RGB\\) channels"):
        clf.predict(np.zeros((2, 8, 8, 2)))
    with pytest.raises(ValueError, match="`policy` as a string must be one of"):
        _clf(policy="freeze_some").fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        _clf().fit(X[:8], np.linspace(0, 1, 8))
    with pytest.raises(ValueError, match="`sample_weight` must hold one weight per image"):
        _clf().fit(X[:8], y[:8], sample_weight=np.ones(3))


def test_fine_tuned_classifier_training_options_reach_both_phases(digits3):
    import keras

    X, y = digits3
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
    clf = _clf(policy="freeze_all", epochs=1, callbacks=[stop], class_weight="balanced")
    weights = np.where(y[:64] == "zero", 2.0, 1.0)
    clf.fit(X[:64], y[:64], sample_weight=weights, validation_data=(X[64:80], y[64:80]))
    assert clf.history_["phase"] == ["head", "fine_tune"]
    assert len(clf.history_["val_loss"]) == 2
    assert clf.get_params()["callbacks"][0] is stop  # the parameter itself is never fitted
    assert "val_loss" in _clf(epochs=1, head_epochs=0, validation_split=0.25).fit(X[:64], y[:64]).history_
