"""DomainAdaptationClassifier: every method, method="auto", X_target routing, training options, errors."""

import pickle

import keras
import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline

from keras_transfer.models import ADAPTATION_METHODS
from keras_transfer.sklearn import DomainAdaptationClassifier
from tests.sklearn._tiny import TINY_BN_CNN, TINY_CNN

NAMES = np.array(["even", "odd"])


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(n_class=2, return_X_y=True)
    return (X * (255 / 16)).reshape(-1, 8, 8).astype("uint8"), NAMES[y]


@pytest.fixture
def domains(digits):
    X, y = digits
    return X[:120], y[:120], 255 - X[120:200], y[120:200]  # target: inverted digits, labels unused


def _clf(**kw):
    params = dict(TINY_CNN, method="coral", epochs=1, batch_size=32, bottleneck=8, random_state=0)
    return DomainAdaptationClassifier(**{**params, **kw})


FAST = ["source_only", "coral", "dann", "mcc"]
SLOW = [name for name in ADAPTATION_METHODS if name not in FAST]  # the same plumbing as above
HISTORY_KEY = {"source_only": "accuracy", "adabn": "accuracy"}  # the others: adaptation_loss


@pytest.mark.parametrize("method", ["adabn", *FAST, *(pytest.param(m, marks=pytest.mark.slow) for m in SLOW)])
def test_domain_adaptation_classifier_every_method_fits_and_predicts(domains, method):
    Xs, ys, Xt, _ = domains
    backbone = TINY_BN_CNN if method == "adabn" else TINY_CNN
    clf = _clf(**backbone, method=method, epochs=2, train_backbone=True).fit(
        Xs[:64], ys[:64], X_target=Xt[:48]
    )
    assert clf.method_ == method
    assert set(clf.predict(Xt)) <= {"even", "odd"}
    key = HISTORY_KEY.get(method, "adaptation_loss")
    assert len(clf.history_[key]) == 2 and np.isfinite(clf.history_[key]).all()


def test_domain_adaptation_classifier_adabn_uses_target_statistics(domains):
    Xs, ys, Xt, _ = domains
    kw = dict(TINY_BN_CNN, epochs=1, random_state=0)
    source_only = _clf(method="source_only", **kw).fit(Xs, ys, X_target=Xt)
    adabn = _clf(method="adabn", **kw).fit(Xs, ys, X_target=Xt)
    # the frozen backbone keeps its statistics (those source-only has) ...
    bn = [v for v in adabn.model_.weights if "moving_mean" in v.path][0]
    same = [v for v in source_only.model_.weights if v.path == bn.path][0]
    np.testing.assert_array_equal(bn.numpy(), same.numpy())
    # ... and the BatchNorm layer on the pooled features holds the target's: the mean of the
    # pooled target features (averaged over batches: equal to 0.5%), far from the source's
    features = adabn.model_.layers[0]

    def pooled_mean(X):
        images = adabn._model_inputs(adabn._images(X, reset=False, size=adabn.input_size_))
        return features.layers[0].predict(images, verbose=0).mean(0)

    norm = features.get_layer("feature_norm")
    np.testing.assert_allclose(norm.moving_mean.numpy(), pooled_mean(Xt), rtol=5e-3, atol=1e-4)
    assert not np.allclose(norm.moving_mean.numpy(), pooled_mean(Xs), rtol=0.1)
    assert not np.allclose(norm.moving_mean.numpy(), 0.0)
    assert "feature_norm" not in [layer.name for layer in source_only.model_.layers[0].layers]


def test_domain_adaptation_classifier_pickle_round_trip(domains):
    Xs, ys, Xt, _ = domains
    clf = _clf().fit(Xs, ys, X_target=Xt)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(Xt), clf.predict_proba(Xt), rtol=1e-5, atol=1e-6)


def test_domain_adaptation_classifier_dann_learns_source_task(domains):
    Xs, ys, Xt, _ = domains
    clf = _clf(
        method="dann",
        epochs=8,
        bottleneck=32,
        train_backbone=True,
        learning_rate=3e-3,
        adaptation_weight=0.1,
    )  # measured: 1.0 (the default 0->1 ramp collapses here)
    assert clf.fit(Xs[:90], ys[:90], X_target=Xt).score(Xs[90:], ys[90:]) > 0.75  # chance 0.5


# ----- method="auto" -------------------------------------------------------------------------------
def _auto(**kw):
    params = dict(
        TINY_BN_CNN, epochs=5, batch_size=32, learning_rate=3e-3, train_backbone=True, random_state=0
    )
    return DomainAdaptationClassifier(**{**params, **kw})


def test_auto_returns_source_only_when_both_domains_are_the_same_distribution(digits):
    """X_target drawn from the same distribution as X: no shift to adapt to, so source-only."""
    X, y = digits
    clf = _auto()
    assert clf.method == "auto"  # the default
    clf.fit(X[:200], y[:200], X_target=X[200:])
    assert clf.method_ == "source_only"
    assert clf.domain_shift_["detected"] is False
    assert clf.domain_shift_["domain_accuracy"] <= clf.domain_shift_["threshold"]
    assert list(clf.selection_scores_) == ["source_only"]  # no adaptation candidate was trained
    assert clf.selection_scores_["source_only"]["status"] == "selected: no detectable domain shift"
    assert clf.score(X[200:], y[200:]) > 0.9  # measured 0.99; chance 0.5


@pytest.mark.slow  # seven trainings of the tiny network: about 90 s on a busy 2-core CPU
def test_auto_with_a_shift_scores_every_candidate_and_does_not_fall_below_source_only(digits):
    X, y = digits
    Xt, yt = 255 - X[200:], y[200:]  # inverted digits: a shift a domain classifier sees at once
    clf = _auto().fit(X[:200], y[:200], X_target=Xt)
    assert clf.domain_shift_["detected"] is True
    scores = clf.selection_scores_
    assert list(scores) == ["source_only", "adabn", "coral", "mcc", "dann", "dann_self_training"]
    assert [name for name, row in scores.items() if row["status"] == "selected"] == [clf.method_]
    for row in scores.values():
        assert {"source_accuracy", "reverse_validation", "dev", "snd", "entropy", "bnm", "im"} <= set(row)
        assert {"class_ami", "mixval", "status"} <= set(row)
    source_only = _auto(method="source_only").fit(X[:200], y[:200], X_target=Xt)
    assert clf.score(Xt, yt) >= source_only.score(Xt, yt) - 0.05  # target labels only checked here


# ----- X_target routing ---------------------------------------------------------------------------
def test_pipeline_routes_x_target_without_metadata_routing(domains):
    Xs, ys, Xt, _ = domains
    pipe = Pipeline([("clf", _clf())]).fit(Xs, ys, clf__X_target=Xt)
    assert pipe.named_steps["clf"].method_ == "coral" and pipe.predict(Xt).shape == (80,)
    with pytest.warns(UserWarning, match="`X_target` was not given.*source-only"):
        pipe = Pipeline([("clf", _clf())]).fit(Xs, ys)
    assert pipe.named_steps["clf"].method_ == "source_only"


def test_pipeline_routes_x_target_with_metadata_routing(domains):
    Xs, ys, Xt, _ = domains
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("clf", _clf())]).fit(Xs, ys, X_target=Xt)  # requested by default
        assert pipe.named_steps["clf"].method_ == "coral"
        with pytest.raises(TypeError, match="clf__X_target"):  # the step__param form is refused
            Pipeline([("clf", _clf())]).fit(Xs, ys, clf__X_target=Xt)
        weights = np.ones(len(Xs))
        with pytest.raises(Exception, match="sample_weight"):  # not requested: an error, not ignored
            Pipeline([("clf", _clf())]).fit(Xs, ys, X_target=Xt, sample_weight=weights)
        clf = _clf().set_fit_request(sample_weight=True)
        Pipeline([("clf", clf)]).fit(Xs, ys, X_target=Xt, sample_weight=weights)
        scores = cross_val_score(_clf(), Xs, ys, cv=2, params={"X_target": Xt})
    assert scores.shape == (2,)


# ----- training options (scikeras-style) ----------------------------------------------------------
class _EpochCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_training_options_weights_callbacks_and_validation(domains):
    Xs, ys, Xt, _ = domains
    counter = _EpochCounter()
    clf = _clf(method="source_only", epochs=2, callbacks=[counter, keras.callbacks.EarlyStopping(patience=5)])
    clf.fit(Xs, ys, X_target=Xt, validation_data=(Xs[:20], ys[:20]))
    assert counter.epochs == []  # the parameter is never modified: each fit uses copies
    assert len(clf.history_["val_loss"]) == 2
    clf = _clf(validation_split=0.25, class_weight="balanced").fit(Xs, ys, X_target=Xt)
    assert "val_loss" in clf.history_
    weights = np.where(ys == "even", 0.0, 1.0)  # half the classes weighted out
    with pytest.raises(ValueError, match="only 1 class"):
        _clf().fit(Xs, ys, X_target=Xt, sample_weight=weights)
    weights[:10] = 2.0
    _clf(class_weight={"even": 2.0}).fit(Xs, ys, X_target=Xt, sample_weight=weights)


def test_training_option_errors_name_the_argument(domains):
    Xs, ys, Xt, _ = domains
    with pytest.raises(ValueError, match="`sample_weight` must hold one weight per image"):
        _clf().fit(Xs, ys, X_target=Xt, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="`sample_weight` must hold finite weights >= 0"):
        _clf().fit(Xs, ys, X_target=Xt, sample_weight=-np.ones(len(Xs)))
    with pytest.raises(ValueError, match="`class_weight` names the class 'seven'"):
        _clf(class_weight={"seven": 2.0}).fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="`class_weight` must be None, 'balanced' or a dict"):
        _clf(class_weight="auto").fit(Xs, ys, X_target=Xt)
    with pytest.raises(TypeError, match="`callbacks` must be a list of keras.callbacks.Callback"):
        _clf(callbacks=["early_stopping"]).fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="`validation_split` must be a finite number >= 0.0 and < 1.0"):
        _clf(validation_split=1.5).fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="`validation_data` must be a pair"):
        _clf().fit(Xs, ys, X_target=Xt, validation_data=Xs[:4])
    with pytest.raises(ValueError, match="`validation_data` holds labels never seen in fit: \\['seven'\\]"):
        _clf().fit(Xs, ys, X_target=Xt, validation_data=(Xs[:2], ["even", "seven"]))


# ----- errors -------------------------------------------------------------------------------------
def test_x_target_errors_name_x_target(domains):
    Xs, ys, Xt, _ = domains
    nan = Xt.astype("float32")
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="`X_target` contains NaN"):
        _clf().fit(Xs, ys, X_target=nan)
    with pytest.raises(ValueError, match="`X_target` is empty"):
        _clf().fit(Xs, ys, X_target=Xt[:0])
    with pytest.raises(ValueError, match="`X_target` must have 1 \\(grayscale\\) or 3 \\(RGB\\) channels"):
        _clf().fit(Xs, ys, X_target=np.zeros((4, 8, 8, 2)))
    with pytest.raises(ValueError, match="`X_target` has 16 features per row, but X had n_features_in_=64"):
        _clf().fit(Xs.reshape(len(Xs), -1), ys, X_target=np.zeros((4, 16)))
    with pytest.raises(ValueError, match="`X_target`='/proc/self' is a folder without image files"):
        _clf().fit(Xs, ys, X_target="/proc/self")


def test_bad_inputs_give_errors_naming_the_argument(domains):
    Xs, ys, Xt, _ = domains
    with pytest.raises(ValueError, match="`method` must be one of.*Did you mean 'coral'"):
        _clf(method="corall").fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="`adaptation_weight` must be a finite number >= 0.0 or None"):
        _clf(adaptation_weight=-1.0).fit(Xs, ys, X_target=Xt)
    with pytest.raises(TypeError, match="`random_state` must be a non-negative integer.*'abc'"):
        _clf(random_state="abc").fit(Xs, ys, X_target=Xt)
    with pytest.raises(
        ValueError, match="`random_state` must be a non-negative integer; received random_state=-1"
    ):
        _clf(random_state=-1).fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="`y` must hold class labels: Unknown label type: continuous"):
        _clf().fit(Xs, np.linspace(0, 1, len(Xs)), X_target=Xt)  # regression targets such as 0.5
    with pytest.raises(ValueError, match="`y` must be 1-D class labels.*looks one-hot.*argmax"):
        _clf().fit(Xs, np.eye(2)[(ys == "odd").astype(int)], X_target=Xt)
    with pytest.raises(ValueError, match="`y` is empty"):
        _clf().fit(Xs[:0], ys[:0], X_target=Xt)
    with pytest.raises(ValueError, match="`X` contains NaN"):
        _clf().fit(np.full((4, 8, 8), np.nan), ys[:4], X_target=Xt)
    with pytest.raises(
        ValueError, match="`method`='adabn' re-estimates BatchNormalization.*no BatchNormalization"
    ):
        _clf(method="adabn").fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="`y` must have one label per image \\(120\\); received 100"):
        _clf().fit(Xs, ys[:100], X_target=Xt)
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None \\(`y`\\)"):
        _clf().fit(Xs, None, X_target=Xt)
    with pytest.raises(TypeError, match="`sample_weight` must hold real numbers"):
        _clf().fit(Xs, ys, X_target=Xt, sample_weight=np.array(["a"] * len(Xs)))
    with pytest.warns(UserWarning, match="`X_target` has pixels in .*far outside"):
        _clf(method="source_only").fit(Xs, ys, X_target=np.asarray(Xt, "float32") * 1e4)
    clf = _clf(method="source_only").fit(Xs, ys, X_target=Xt)
    assert clf.fit(Xs, np.where(ys == "even", 0.0, 1.0), X_target=Xt).classes_.tolist() == [0.0, 1.0]


def test_fitted_with_adabn_tells_which_candidates_hold_target_statistics():
    """method="auto" scores the held-out source rows of these candidates with source statistics
    (`batch_norm_statistics`), so its source-accuracy guard does not refuse them for holding the
    target's."""
    from keras_transfer.models import DANN
    from keras_transfer.sklearn.auto_selection import fitted_with_adabn

    def features(batch_norm):
        stack = [keras.Input((4,)), keras.layers.Dense(8)]
        return keras.Sequential(stack + ([keras.layers.BatchNormalization()] if batch_norm else []))

    assert fitted_with_adabn(DANN(features(True), 2))  # default "auto" with a trainable BatchNorm
    assert fitted_with_adabn(DANN(features(True), 2, adapt_batch_norm=True))
    assert not fitted_with_adabn(DANN(features(True), 2, adapt_batch_norm=False))
    assert not fitted_with_adabn(DANN(features(False), 2))  # "auto" without BatchNorm: off
    frozen = features(True)
    frozen.trainable = False
    assert not fitted_with_adabn(DANN(frozen, 2))
    assert not fitted_with_adabn(keras.Sequential([features(True), keras.layers.Dense(2)]))
