"""DomainAdaptationClassifier few-label validation: X_target_val / y_target_val select `auto`'s
method by target labels, report accuracy with a Wilson interval, are never trained on, and route
through Pipelines like X_target."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline

from keras_transfer.adaptation import wilson_interval
from keras_transfer.sklearn import DomainAdaptationClassifier
from keras_transfer.sklearn.auto_selection import CANDIDATES, better_by_labels, labelled_scores
from tests.sklearn._tiny import TINY_BN_CNN, TINY_CNN

NAMES = np.array(["even", "odd"])


@pytest.fixture(scope="module")
def domains():
    X, y = load_digits(n_class=2, return_X_y=True)
    X, y = (X * (255 / 16)).reshape(-1, 8, 8).astype("uint8"), NAMES[y]
    # source: digits; target: low-contrast digits (unlabelled adaptation set, then 30 labelled
    # ones): measured, source-only 0.53 and the adaptation candidates 0.77 on the 30 labels
    shifted = (X * 0.5 + 100).astype("uint8")
    return X[:120], y[:120], shifted[120:200], shifted[200:230], y[200:230]


def _clf(**kw):
    params = dict(TINY_CNN, method="coral", epochs=1, batch_size=32, bottleneck=8, random_state=0)
    return DomainAdaptationClassifier(**{**params, **kw})


# ----- the rule (numbers) -------------------------------------------------------------------------
def test_labelled_scores_accuracy_interval_and_log_loss():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    codes = np.array([0, 1, 1, 1])  # 3 of 4 right
    row = labelled_scores(probs, codes)
    assert row["target_val_accuracy"] == 0.75 and row["num_target_labels"] == 4
    assert row["target_val_interval"] == wilson_interval(3, 4, 0.95)
    expected = -np.mean(np.log([0.9, 0.8, 0.4, 0.7]))
    np.testing.assert_allclose(row["target_val_log_loss"], expected, rtol=1e-12)


def test_better_by_labels_prefers_accuracy_then_log_loss():
    a = {"target_val_accuracy": 0.80, "target_val_log_loss": 0.9}
    b = {"target_val_accuracy": 0.78, "target_val_log_loss": 0.1}
    c = {"target_val_accuracy": 0.80, "target_val_log_loss": 0.5}
    assert better_by_labels(a, b) and not better_by_labels(b, a)  # accuracy first
    assert better_by_labels(c, a) and not better_by_labels(a, c)  # equal accuracy: lower loss
    assert not better_by_labels(a, a)  # a tie keeps the earlier candidate
    assert better_by_labels(b, None)


# ----- the estimator ------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::keras_transfer.adaptation.CollapseWarning")  # 1 epoch
def test_explicit_method_reports_target_accuracy_and_never_trains_on_the_labels(domains):
    Xs, ys, Xt, Xv, yv = domains
    with_labels = _clf().fit(Xs, ys, X_target=Xt, X_target_val=Xv, y_target_val=yv)
    report = with_labels.target_validation_
    assert report["method"] == "coral" and report["selected_by_these_labels"] is False
    assert report["num_labels"] == 30 and report["confidence"] == 0.95
    assert report["accuracy"] == pytest.approx(with_labels.score(Xv, yv))
    correct = int(round(report["accuracy"] * 30))
    assert report["interval"] == pytest.approx(wilson_interval(correct, 30))
    # the same seeded fit without the labelled images: the same model, so nothing was learnt from them
    without = _clf().fit(Xs, ys, X_target=Xt)
    assert without.target_validation_ is None
    np.testing.assert_allclose(with_labels.predict_proba(Xt), without.predict_proba(Xt), atol=1e-6)


def test_auto_scores_candidates_on_target_labels_and_refits_the_choice(domains):
    Xs, ys, Xt, Xv, yv = domains
    kw = dict(TINY_BN_CNN, method="auto", train_backbone=True, epochs=2, learning_rate=3e-3)
    clf = _clf(**kw).fit(Xs[:64], ys[:64], X_target=Xt[:48], X_target_val=Xv, y_target_val=yv)
    table = clf.selection_scores_
    assert list(table) == list(CANDIDATES)
    for row in table.values():
        assert row["num_target_labels"] == 30 and 0.0 <= row["target_val_accuracy"] <= 1.0
        low, high = row["target_val_interval"]
        assert low <= row["target_val_accuracy"] <= high
    assert [n for n, r in table.items() if r["status"] == "selected"] == [clf.method_]
    # a candidate ruled out by the labels is less accurate on them than the choice
    for row in table.values():
        if "less accurate on the target labels" in row["status"]:
            assert row["target_val_accuracy"] < table[clf.method_]["target_val_accuracy"]
    report = clf.target_validation_
    assert report["selected_by_these_labels"] is True and report["method"] == clf.method_
    assert report["accuracy"] == pytest.approx(clf.score(Xv, yv))
    # the refit is exactly what fit(method=<choice>) trains: the labelled images were not trained on
    explicit = _clf(**{**kw, "method": clf.method_}).fit(Xs[:64], ys[:64], X_target=Xt[:48])
    np.testing.assert_allclose(clf.predict_proba(Xt), explicit.predict_proba(Xt), atol=1e-5)


@pytest.mark.filterwarnings("ignore::keras_transfer.adaptation.CollapseWarning")  # 1 epoch
def test_target_validation_errors_name_the_argument(domains):
    Xs, ys, Xt, Xv, yv = domains
    clf = _clf(method="source_only")
    with pytest.raises(ValueError, match="`X_target_val` was given without `y_target_val`"):
        clf.fit(Xs, ys, X_target=Xt, X_target_val=Xv)
    with pytest.raises(ValueError, match="`y_target_val` was given without `X_target_val`"):
        clf.fit(Xs, ys, X_target=Xt, y_target_val=yv)
    with pytest.raises(
        ValueError, match=r"`y_target_val` must have one label per image of `X_target_val` \(30"
    ):
        clf.fit(Xs, ys, X_target=Xt, X_target_val=Xv, y_target_val=yv[:29])
    unknown = yv.astype(object)
    unknown[0] = "seven"
    with pytest.raises(ValueError, match=r"`y_target_val` holds labels never seen in fit: \['seven'\]"):
        clf.fit(Xs, ys, X_target=Xt, X_target_val=Xv, y_target_val=unknown)
    with pytest.raises(ValueError, match="`y_target_val` must hold class labels"):
        clf.fit(Xs, ys, X_target=Xt, X_target_val=Xv, y_target_val=np.linspace(0, 1, 30))
    with pytest.raises(ValueError, match="X_target_val"):
        clf.fit(Xs, ys, X_target=Xt, X_target_val=np.full((30, 8, 8), np.nan), y_target_val=yv)


# ----- routing ------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::keras_transfer.adaptation.CollapseWarning")  # 1 epoch
def test_pipeline_routes_target_validation_without_metadata_routing(domains):
    Xs, ys, Xt, Xv, yv = domains
    pipe = Pipeline([("clf", _clf(method="source_only"))])
    pipe.fit(Xs, ys, clf__X_target=Xt, clf__X_target_val=Xv, clf__y_target_val=yv)
    assert pipe.named_steps["clf"].target_validation_["num_labels"] == 30


@pytest.mark.filterwarnings("ignore::keras_transfer.adaptation.CollapseWarning")  # 1 epoch
def test_metadata_routing_requests_target_validation_by_default(domains):
    Xs, ys, Xt, Xv, yv = domains
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("clf", _clf(method="source_only"))])
        pipe.fit(Xs, ys, X_target=Xt, X_target_val=Xv, y_target_val=yv)
        assert pipe.named_steps["clf"].target_validation_["num_labels"] == 30
        # cross-validation slices only fit parameters with as many rows as X: these stay whole
        scores = cross_val_score(
            _clf(method="source_only"),
            Xs,
            ys,
            cv=2,
            params={"X_target": Xt, "X_target_val": Xv, "y_target_val": yv},
        )
        assert scores.shape == (2,)
        off = _clf(method="source_only").set_fit_request(X_target_val=False, y_target_val=False)
        with pytest.raises(Exception, match="X_target_val"):  # not requested: refused, not ignored
            Pipeline([("clf", off)]).fit(Xs, ys, X_target=Xt, X_target_val=Xv, y_target_val=yv)
