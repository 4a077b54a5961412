"""SelfTraining (FixMatch-style): beats source-only on target clusters the source classifier
cuts, computes the thresholded pseudo-label loss on the strong view, builds default image views,
saves and loads, refuses bad input."""

import keras
import numpy as np
import pytest

from keras_transfer.models import SelfTraining
from tests.models._synthetic import blobs, mlp, target_accuracy


def _noise_views(**kwargs):
    return dict(
        weak_augmentation=keras.layers.GaussianNoise(0.1),
        strong_augmentation=keras.layers.GaussianNoise(0.5),
        **kwargs,
    )


def test_self_training_beats_source_only_on_target():
    # source-only: the same model and views with the pseudo-label loss weighted 0
    source_only = target_accuracy(
        lambda: SelfTraining(mlp(), 2, **_noise_views(adaptation_weight=0.0)), blobs, 0, 6
    )
    self_training = target_accuracy(lambda: SelfTraining(mlp(), 2, **_noise_views()), blobs, 0, 6)
    assert self_training > source_only + 0.05 and self_training > 0.95, (source_only, self_training)


def _small(seed=0, n=48):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, 4)).astype("float32")
    xt = (rng.normal(size=(n, 4)) + 1.0).astype("float32")
    return xs, rng.integers(0, 3, n), xt


@pytest.mark.backend_neutral
def test_pseudo_label_loss_matches_numpy():
    xs, _, xt = _small()
    model = SelfTraining(
        mlp((8,)),
        3,
        weak_augmentation=keras.layers.Identity(),
        strong_augmentation=keras.layers.Rescaling(1.5),
    )
    weak = model.predict(xt, verbose=0).astype("float64")
    strong = model.predict(1.5 * xt, verbose=0).astype("float64")
    model.threshold = float(np.median(weak.max(1)))  # half the target rows pass
    y_pred = model((xs, xt), training=True)
    mask = weak.max(1) >= model.threshold
    expected = np.sum(-np.log(strong[np.arange(len(xt)), weak.argmax(1)]) * mask) / len(xt)
    np.testing.assert_allclose(float(y_pred.adaptation_loss), expected, rtol=1e-4)
    np.testing.assert_allclose(float(np.mean(keras.ops.convert_to_numpy(y_pred.extras.mask))), mask.mean())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(y_pred.extras.labels), weak.argmax(1))


@pytest.mark.backend_neutral
def test_self_training_history_and_keras_round_trip(tmp_path):
    xs, ys, xt = _small()
    model = SelfTraining(mlp((8,)), 3, threshold=0.5, adaptation_weight=0.7, **_noise_views())
    model.compile(optimizer="adam")
    history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, verbose=0).history
    assert sorted(history) == ["adaptation_loss", "label_accuracy", "label_loss", "loss", "mask_rate"]
    assert 0.0 <= history["mask_rate"][0] <= 1.0
    np.testing.assert_allclose(
        history["loss"][0], history["label_loss"][0] + 0.7 * history["adaptation_loss"][0], rtol=1e-4
    )
    path = str(tmp_path / "fixmatch.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(xt, verbose=0), model.predict(xt, verbose=0))
    assert loaded.threshold == 0.5 and loaded.strong_augmentation.stddev == 0.5


def test_default_image_views_train_and_are_configurable():
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 256, (16, 12, 12, 3)).astype("float32")
    xt = rng.integers(0, 256, (16, 12, 12, 3)).astype("float32")
    features = keras.Sequential([keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D()])
    model = SelfTraining(features, 2)
    assert [type(layer).__name__ for layer in model.strong_augmentation.layers] == [
        "RandomFlip",
        "RandomTranslation",
        "RandAugment",
        "RandomErasing",
    ]
    model.compile(optimizer="adam")
    history = model.fit(x=(xs, xt), y=np.arange(16) % 2, epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(history["loss"][0])
    config = model.get_config()
    assert config["weak_augmentation"] is None and config["value_range"] == [0.0, 255.0]
    digits = SelfTraining(mlp(), 10, horizontal_flip=False, value_range=(0, 1))
    assert [type(layer).__name__ for layer in digits.weak_augmentation.layers] == ["RandomTranslation"]


@pytest.mark.backend_neutral
def test_self_training_bad_arguments_and_input():
    with pytest.raises(ValueError, match="`threshold` must be a finite number >= 0.0 and <= 1.0"):
        SelfTraining(mlp(), 2, threshold=1.5)
    with pytest.raises(ValueError, match=r"`value_range` must be a \(low, high\) pair"):
        SelfTraining(mlp(), 2, value_range=(255, 0))
    with pytest.raises(TypeError, match="`horizontal_flip` must be True or False"):
        SelfTraining(mlp(), 2, horizontal_flip="no")
    with pytest.raises(ValueError, match="`weak_augmentation` must be a Keras model or layer"):
        SelfTraining(mlp(), 2, weak_augmentation="flip")
    assert SelfTraining(mlp(), 2, threshold=np.float32(0.5), value_range=(np.int64(0), 1)).threshold == 0.5
    xs, ys, xt = _small()
    model = SelfTraining(mlp((8,)), 3)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="default `weak_augmentation`/`strong_augmentation` views are image"):
        model.fit(x=(xs, xt), y=ys, epochs=1, verbose=0)
    model = SelfTraining(mlp((8,)), 3, **_noise_views())
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="Target labels are not allowed"):
        model.fit(x=(xs, xt), y=(ys, ys), epochs=1, verbose=0)
