"""SHOT: source-free adaptation trains the feature extractor only, with the paper's loss, lifts a
shifted target, splits Sequential/functional/TransferClassifier models, saves and loads."""

import warnings

import keras
import numpy as np
import pytest

from keras_transfer.adaptation import CollapseWarning
from keras_transfer.models import SHOT, TransferClassifier
from tests.models._synthetic import blobs
from tests.policies._helpers import X, tiny_backbone


def _source_model(xs, ys, epochs=20):
    model = keras.Sequential(
        [
            keras.Input((xs.shape[1],)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(xs, ys, epochs=epochs, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def shifted():
    keras.utils.set_random_seed(0)
    xs, ys, xt, yt = blobs(0, shift=1.5)  # the source classifier cuts through one target blob
    return _source_model(xs, ys), xt, yt


def _accuracy(model, x, y):
    return float(np.mean(np.asarray(model.predict(x, verbose=0)).argmax(1) == y))


@pytest.mark.backend_neutral
def test_shot_adapts_the_feature_extractor_only_and_lifts_the_target(shifted):
    source, xt, yt = shifted
    before = [w.copy() for w in source.get_weights()]
    model = SHOT.from_model(source)
    classifier = [w.copy() for w in model.classifier.get_weights()]
    model.compile()
    history = model.fit(xt, epochs=10, batch_size=64, verbose=0)
    assert sorted(history.history) == ["diversity", "entropy", "loss", "pseudo_label_loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    for a, b in zip(before, source.get_weights()):  # a copy was adapted
        np.testing.assert_array_equal(a, b)
    for a, b in zip(classifier, model.classifier.get_weights()):  # the hypothesis is frozen
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(before[0], model.feature_extractor.get_weights()[0])
    assert not model.collapse_report.collapsed
    assert _accuracy(model, xt, yt) > _accuracy(source, xt, yt) + 0.05


@pytest.mark.backend_neutral
def test_shot_loss_matches_numpy(shifted):
    source, xt, _ = shifted
    model = SHOT.from_model(source, beta=0.3)
    p = np.asarray(model(xt[:32]))
    labels = np.arange(32) % 2

    def h(q):
        return -np.sum(q * np.log(q + 1e-5), axis=-1)

    expected = np.mean(h(p)) - h(p.mean(0)) + 0.3 * np.mean(-np.log(p[np.arange(32), labels]))
    loss = model.compute_loss(y=labels, y_pred=p)
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_shot_pseudo_labels_are_the_centroid_labels(shifted):
    from keras_transfer.adaptation import centroid_pseudo_labels

    source, xt, _ = shifted
    model = SHOT.from_model(source, target_batch_norm=False)
    features = np.asarray(model.feature_extractor(xt))
    expected = centroid_pseudo_labels(features, np.asarray(model.classifier(features)))
    np.testing.assert_array_equal(model.pseudo_labels(xt), expected)


@pytest.mark.backend_neutral
def test_shot_config_and_keras_round_trip(shifted, tmp_path):
    source, xt, _ = shifted
    model = SHOT.from_model(source, beta=0.5, distance="euclidean")
    config = model.get_config()
    again = SHOT.from_config(config)
    assert (again.beta, again.distance) == (0.5, "euclidean")
    assert again.get_config()["beta"] == config["beta"]
    path = str(tmp_path / "shot.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SHOT) and loaded.beta == 0.5
    np.testing.assert_allclose(loaded.predict(xt[:8], verbose=0), model.predict(xt[:8], verbose=0), atol=1e-6)
    assert not loaded.classifier.trainable


def test_shot_splits_functional_models_and_transfer_classifiers():
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(3)(keras.layers.Dense(5, activation="relu")(inputs))  # logits
    functional = keras.Model(inputs, outputs)
    model = SHOT.from_model(functional)
    probabilities = model.predict(np.ones((2, 4), "float32"), verbose=0)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)  # a softmax was added
    logits = functional.predict(np.ones((2, 4), "float32"), verbose=0)
    np.testing.assert_allclose(probabilities, keras.ops.softmax(logits), rtol=1e-5)

    frozen = TransferClassifier(tiny_backbone(), num_classes=3, policy="freeze_all")
    with pytest.raises(ValueError, match="no trainable weight"):
        SHOT.from_model(frozen)
    classifier = TransferClassifier(tiny_backbone(), num_classes=3, policy="unfreeze_all", dropout=0.0)
    model = SHOT.from_model(classifier)
    np.testing.assert_allclose(model.predict(X, verbose=0), classifier.predict(X, verbose=0), atol=1e-5)
    model.compile()
    model.fit(X, epochs=1, batch_size=4, verbose=0)
    assert model.classifier.trainable is False


def test_shot_bad_inputs(shifted):
    source, xt, yt = shifted
    model = SHOT.from_model(source)
    with pytest.raises(ValueError, match="without `y`"):
        model.fit(xt, yt)
    with pytest.raises(TypeError, match="numpy array"):
        model.fit(list(xt))
    with pytest.raises(ValueError, match="NaN"):
        model.fit(xt * np.nan)
    with pytest.raises(ValueError, match="`beta`"):
        SHOT.from_model(source, beta=-1.0)
    with pytest.raises(ValueError, match="ending in a Dense"):
        SHOT.from_model(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.ReLU()]))
    with pytest.raises(ValueError, match="own loss"):
        model.compile(loss="mse")


def test_shot_collapse_on_a_one_class_target_is_reported(shifted):
    """The diversity term assumes balanced target classes; on a target of one class SHOT still
    drives the predictions into one class (the data leave no other choice) and the guard says so."""
    source, xt, yt = shifted
    one_class = xt[yt == 1]
    model = SHOT.from_model(source)
    model.compile()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(one_class, epochs=3, batch_size=64, verbose=0)
    assert model.collapse_report.collapsed
    assert any(issubclass(w.category, CollapseWarning) and "SHOT" in str(w.message) for w in caught)


def test_transfer_classifier_shot_source_recipe_options(tmp_path):
    """label_smoothing (compile's default loss) and weight_norm (the head) round-trip and train."""
    from keras_transfer.layers import WeightNormalizedDense

    y = np.array([0, 1, 2, 1])
    model = TransferClassifier(
        tiny_backbone(),
        num_classes=3,
        policy="unfreeze_all",
        dropout=0.0,
        label_smoothing=0.1,
        weight_norm=True,
    )
    assert isinstance(model.classifier, WeightNormalizedDense)
    model.compile()
    p = np.asarray(model(X))
    smoothed = 0.9 * np.eye(3)[y] + 0.1 / 3
    expected = np.mean(-np.sum(smoothed * np.log(p), axis=1))
    assert float(model.evaluate(X, y, verbose=0)[0]) == pytest.approx(expected, rel=1e-4)
    model.fit(X, y, epochs=1, batch_size=4, verbose=0)
    config = model.get_config()
    assert (config["label_smoothing"], config["weight_norm"]) == (0.1, True)
    path = str(tmp_path / "recipe.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.classifier, WeightNormalizedDense) and loaded.label_smoothing == 0.1
    assert float(loaded.evaluate(X, y, verbose=0)[0]) == pytest.approx(
        float(model.evaluate(X, y, verbose=0)[0]), rel=1e-5
    )
    shot = SHOT.from_model(loaded)
    np.testing.assert_allclose(shot.predict(X, verbose=0), loaded.predict(X, verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="`label_smoothing`"):
        TransferClassifier(tiny_backbone(), num_classes=3, label_smoothing=1.0)
