"""DomainAdaptationClassifier: the X_target convention, Pipeline routing, all methods, errors."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.pipeline import Pipeline

from keras_transfer.sklearn import DomainAdaptationClassifier
from tests.sklearn._tiny import TINY_CNN


@pytest.fixture
def domains():
    X, y = load_digits(n_class=2, return_X_y=True)
    X = (X * (255 / 16)).reshape(-1, 8, 8)
    source, target = X[:120], 255 - X[120:200]  # target: inverted digits, labels unused
    return source.astype("uint8"), np.array(["even", "odd"])[y[:120]], target.astype("uint8"), y[120:200]


@pytest.mark.parametrize(
    "method",
    [
        "coral",  # DANN's training is covered by the learning test below; the rest is slow on 2 shared cores
        pytest.param("dann", marks=pytest.mark.slow),
        pytest.param("mmd", marks=pytest.mark.slow),
    ],
)
def test_domain_adaptation_classifier_methods_fit_and_predict(domains, method):
    Xs, ys, Xt, _ = domains
    clf = DomainAdaptationClassifier(
        method=method, **TINY_CNN, epochs=2, batch_size=32, bottleneck=16, train_backbone=True, random_state=0
    )
    clf.fit(Xs, ys, X_target=Xt)
    assert set(clf.predict(Xt)) <= {"even", "odd"}
    key = "domain_loss" if method == "dann" else "discrepancy"
    assert len(clf.history_[key]) == 2 and np.isfinite(clf.history_[key]).all()
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(Xt), clf.predict_proba(Xt), rtol=1e-5, atol=1e-6)


def test_domain_adaptation_classifier_pipeline_routes_x_target(domains):
    Xs, ys, Xt, _ = domains
    clf = DomainAdaptationClassifier(method="coral", **TINY_CNN, epochs=1, batch_size=32, bottleneck=8)
    pipe = Pipeline([("clf", clf)])
    pipe.fit(Xs, ys, clf__X_target=Xt)
    assert pipe.predict(Xt).shape == (80,)
    with pytest.raises(ValueError, match="needs unlabelled target images.*__X_target"):
        Pipeline([("clf", clf)]).fit(Xs, ys)


def test_domain_adaptation_classifier_dann_learns_source_task(domains):
    Xs, ys, Xt, _ = domains
    clf = DomainAdaptationClassifier(
        method="dann",
        **TINY_CNN,
        epochs=8,
        batch_size=32,
        bottleneck=32,
        train_backbone=True,
        learning_rate=3e-3,
        random_state=0,
        adaptation_weight=0.1,
    )  # measured: 1.0 (the default 0->1 ramp collapses here)
    assert clf.fit(Xs[:90], ys[:90], X_target=Xt).score(Xs[90:], ys[90:]) > 0.75  # chance 0.5


def test_domain_adaptation_classifier_errors(domains):
    Xs, ys, Xt, _ = domains
    with pytest.raises(ValueError, match="`method` must be one of.*Did you mean 'coral'"):
        DomainAdaptationClassifier(method="corall", **TINY_CNN).fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="`adaptation_weight` must be None or a number >= 0"):
        DomainAdaptationClassifier(adaptation_weight=-1.0, **TINY_CNN).fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="NaN"):
        DomainAdaptationClassifier(**TINY_CNN, epochs=1).fit(Xs, ys, X_target=np.full((4, 8, 8), np.nan))
