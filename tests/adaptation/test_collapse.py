"""The collapse check: real healthy classifiers pass, each degenerate output is named."""

import warnings

import numpy as np
import pytest

from keras_transfer.adaptation import CollapseReport, CollapseWarning, check_collapse, warn_if_collapsed


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    train, test = order[:900], order[900:]
    model = LogisticRegression(max_iter=500).fit(x[train], y[train])
    return model, x[test], y[test], np.bincount(y[train], minlength=10)


def _one_hot_like(labels, num_classes=10, confidence=0.82):
    p = np.full((len(labels), num_classes), (1 - confidence) / (num_classes - 1))
    p[np.arange(len(labels)), labels] = confidence
    return p


@pytest.mark.backend_neutral
def test_healthy_classifier_on_label_shifted_target_is_not_collapsed(digits):
    model, x, y, source_counts = digits
    # a real label shift: class 0 is half of the target, three classes are missing entirely
    rng = np.random.default_rng(1)
    keep = np.concatenate([np.flatnonzero(y == 0)] + [np.flatnonzero(y == c)[:15] for c in range(1, 7)])
    rng.shuffle(keep)
    probabilities = model.predict_proba(x[keep])
    assert np.mean(probabilities.argmax(1) == y[keep]) > 0.9  # the model is good
    assert np.mean(y[keep] == 0) > 0.45
    report = check_collapse(probabilities, reference_distribution=source_counts, features=x[keep])
    assert not report.collapsed, str(report)
    assert report.symptoms == ()
    assert report.num_rows == len(keep)
    assert sum(report.class_shares) == pytest.approx(1.0)
    assert report.reference_shares == pytest.approx(tuple(source_counts / source_counts.sum()))
    assert str(report).startswith("No collapse symptom")


@pytest.mark.backend_neutral
def test_weak_but_informative_classifier_is_not_collapsed(digits):
    from sklearn.linear_model import LogisticRegression

    _, x, y, _ = digits
    weak = LogisticRegression(C=1e-2, max_iter=200).fit(x[:300], y[:300])  # heavily regularised
    probabilities = weak.predict_proba(x[300:])
    report = check_collapse(probabilities)
    assert report.normalized_entropy > 0.97  # very low confidence ...
    assert np.mean(probabilities.argmax(1) == y[300:]) > 0.7  # ... yet informative
    assert not report.collapsed, str(report)


@pytest.mark.backend_neutral
def test_one_class_collapse_is_named_with_shares():
    labels = np.r_[np.full(90, 3), np.arange(10)]
    report = check_collapse(_one_hot_like(labels), reference_distribution=np.full(10, 50))
    assert report.collapsed
    assert report.symptoms == ("91% of target predictions are class 3 (reference share 10%)",)
    assert report.class_shares[3] == pytest.approx(0.91)
    assert str(report) == "Collapsed: 91% of target predictions are class 3 (reference share 10%)."


@pytest.mark.backend_neutral
def test_one_class_threshold_follows_the_reference_balance():
    # 70% in class 0: a collapse for 10 balanced classes? no (threshold 77.5%) ...
    labels = np.r_[np.zeros(70, int), np.arange(30) % 9 + 1]
    assert not check_collapse(_one_hot_like(labels)).collapsed
    # ... 80% is; but not when the source itself has 80% of class 0 (then the bar is 95%)
    labels = np.r_[np.zeros(80, int), np.arange(20) % 9 + 1]
    assert check_collapse(_one_hot_like(labels)).collapsed
    reference = np.r_[0.8, np.full(9, 0.2 / 9)]
    assert not check_collapse(_one_hot_like(labels), reference_distribution=reference).collapsed


@pytest.mark.backend_neutral
def test_two_class_collapse_of_ten_is_found():
    labels = np.arange(200) % 2 + 4  # half class 4, half class 5
    report = check_collapse(_one_hot_like(labels))
    assert report.collapsed
    assert report.symptoms == ("target predictions use only 2.0 classes effectively (reference 10.0)",)
    # three of ten classes, evenly: a target that lacks classes, not a collapse
    assert not check_collapse(_one_hot_like(np.arange(300) % 3)).collapsed


@pytest.mark.backend_neutral
def test_uniform_and_identical_predictions_are_found():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=0.05, size=(100, 10))
    uniform = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    report = check_collapse(uniform)
    assert report.normalized_entropy > 0.99
    assert any("nearly uniform" in s for s in report.symptoms)
    identical = np.tile([[0.1, 0.2, 0.7]], (100, 1)) + rng.normal(scale=1e-6, size=(100, 3))
    identical /= identical.sum(1, keepdims=True)
    report = check_collapse(identical, reference_distribution=[1, 1, 1])
    assert "target predictions are identical for every row (they ignore the input)" in report.symptoms


@pytest.mark.backend_neutral
def test_non_finite_predictions_and_features_are_found():
    p = _one_hot_like(np.arange(100) % 10)
    p[:5] = np.nan
    report = check_collapse(p)
    assert report.collapsed and report.symptoms == ("5% of target predictions hold NaN or inf",)
    features = np.random.default_rng(0).normal(size=(100, 8))
    features[0, 0] = np.inf
    report = check_collapse(_one_hot_like(np.arange(100) % 10), features=features)
    assert report.symptoms == ("1% of target feature rows hold NaN or inf",)


@pytest.mark.backend_neutral
def test_degenerate_features_are_found_but_dead_units_are_not():
    p = _one_hot_like(np.arange(100) % 10)
    rng = np.random.default_rng(0)
    assert check_collapse(p, features=np.zeros((100, 16))).symptoms == (
        "every target feature is exactly zero",
    )
    constant = np.ones((100, 16)) * 3.0 + rng.normal(scale=1e-3, size=(100, 16))
    (symptom,) = check_collapse(p, features=constant).symptoms
    assert symptom.startswith("target features are nearly identical across rows")
    relu = np.maximum(rng.normal(size=(100, 16)), 0)
    relu[:, :12] = 0.0  # 12 of 16 units dead: still informative
    assert not check_collapse(p, features=relu).collapsed


@pytest.mark.backend_neutral
def test_few_rows_skip_share_checks_but_not_nan():
    p = _one_hot_like(np.full(10, 2))
    assert not check_collapse(p).collapsed  # 10 rows of one class can be chance
    p[0] = np.nan
    assert check_collapse(p).collapsed


@pytest.mark.backend_neutral
def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="`probabilities` must be class probabilities"):
        check_collapse(np.ones(10))
    with pytest.raises(ValueError, match="apply a softmax"):
        check_collapse(np.random.default_rng(0).normal(size=(30, 4)))
    with pytest.raises(
        ValueError, match=r"`reference_distribution` must be one non-negative number per class"
    ):
        check_collapse(_one_hot_like(np.arange(30) % 10), reference_distribution=[0.5, 0.5])
    with pytest.raises(ValueError, match="`reference_distribution` must hold finite non-negative"):
        check_collapse(_one_hot_like(np.arange(30) % 10), reference_distribution=-np.ones(10))
    with pytest.raises(ValueError, match="`features` must be real numbers with one row per row"):
        check_collapse(_one_hot_like(np.arange(30) % 10), features=np.ones((29, 3)))
    with pytest.raises(TypeError, match="`report` must be a CollapseReport"):
        warn_if_collapsed("collapsed", "dann")


@pytest.mark.backend_neutral
def test_warn_if_collapsed_names_method_and_symptom():
    report = check_collapse(_one_hot_like(np.full(50, 7)))
    with pytest.warns(
        CollapseWarning, match=r"method 'self_training' .*100% of target predictions are class 7"
    ):
        assert warn_if_collapsed(report, "self_training") is True
    healthy = check_collapse(_one_hot_like(np.arange(50) % 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_collapsed(healthy, "dann") is False
    assert issubclass(CollapseWarning, UserWarning)
    assert isinstance(healthy, CollapseReport)
    with pytest.raises(AttributeError):
        healthy.collapsed = True  # frozen
