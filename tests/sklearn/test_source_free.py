"""adapt_source_free: a fitted estimator and target images in, an adapted copy out."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from keras_transfer.sklearn import DomainAdaptationClassifier, adapt_source_free


@pytest.fixture(scope="module")
def fitted():
    from keras_transfer.datasets import load_domain_pair

    pair = load_domain_pair("digits", seed=0)
    (xs, ys), (xt, _) = pair["source"], pair["target"]
    clf = DomainAdaptationClassifier(
        method="source_only",
        backbone="mobilenet_v3_small",
        weights=None,
        input_shape=(32, 32, 3),
        train_backbone=True,
        epochs=1,
        batch_size=32,
        random_state=0,
    )
    clf.fit(xs[:96], ys[:96], X_target=xt[96:192])
    clf.fit_source_, clf.fit_target_ = (xs[:96], ys[:96]), xt[96:192]  # for the refits below
    return clf, xt[:96]


@pytest.mark.parametrize("method", ["shot", "tent"])
def test_adapt_source_free_returns_an_adapted_copy(fitted, method):
    clf, xt = fitted
    before = [w.copy() for w in clf.model_.get_weights()]
    adapted = adapt_source_free(clf, xt, method=method, epochs=1, random_state=0)
    assert adapted is not clf and adapted.model_ is not clf.model_
    for a, b in zip(before, clf.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert adapted.source_free_method_ == method
    assert adapted.collapse_report_.num_rows == len(xt)
    assert adapted.predict(xt).shape == (len(xt),)
    assert not np.allclose(adapted.predict_proba(xt), clf.predict_proba(xt))
    assert not hasattr(clf, "source_free_method_")


def test_adapt_source_free_bad_inputs(fitted):
    clf, xt = fitted
    with pytest.raises(ValueError, match="`method`"):
        adapt_source_free(clf, xt, method="dann")
    with pytest.raises(NotFittedError):
        adapt_source_free(DomainAdaptationClassifier(), xt)
    with pytest.raises(ValueError, match="X_target"):
        adapt_source_free(clf, xt * np.nan)


@pytest.mark.parametrize("method", ["shot", pytest.param("tent", marks=pytest.mark.slow)])
def test_domain_adaptation_classifier_source_free_methods(fitted, method):
    """method="shot"/"tent": the same source-only training, then SHOT/TENT on X_target alone."""
    plain, xt = fitted
    x_target = plain.fit_target_
    adapted = DomainAdaptationClassifier(**{**plain.get_params(), "method": method})
    adapted.fit(*plain.fit_source_, X_target=x_target)
    assert adapted.method_ == method
    assert adapted.predict(xt).shape == (len(xt),)
    assert not np.allclose(adapted.predict_proba(xt), plain.predict_proba(xt))
