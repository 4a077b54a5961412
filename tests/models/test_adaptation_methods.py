"""Generic tests of every registered adaptation method (`keras_transfer.models.ADAPTATION_METHODS`):
a new method registered in its file is trained, saved, loaded, checked for bad weights and offered
by the estimator here without being named."""

import copy
import json
import warnings

import keras
import numpy as np
import pytest

from keras_transfer.models import ADAPTATION_METHODS, TwoDomainModel, register_adaptation_method
from keras_transfer.schedules import ReversalSchedule

METHODS = sorted(ADAPTATION_METHODS)
CLASSES = sorted({method.model for method in ADAPTATION_METHODS.values()}, key=lambda cls: cls.__name__)


def _images(n, seed):
    """8x8 RGB images in [0, 255]: every method's defaults accept them (SelfTraining's views too)."""
    return np.random.default_rng(seed).uniform(0, 255, (n, 8, 8, 3)).astype("float32")


def _model(name, **overrides):
    features = keras.Sequential(
        [keras.layers.Rescaling(1 / 255), keras.layers.Flatten(), keras.layers.Dense(8)]
    )
    return ADAPTATION_METHODS[name].build(features, 3, **overrides)


def _fit(model, epochs=1, batch_size=8):
    xs, xt = _images(24, 0), _images(16, 1)
    ys = np.arange(24) % 3
    model.compile(optimizer="adam")
    return model.fit(x=(xs, xt), y=ys, epochs=epochs, batch_size=batch_size, verbose=0).history


def test_registry_holds_the_two_domain_methods():
    assert {"dann", "cdan", "cdan+e", "coral", "mmd", "mcc", "entropy", "self_training"} <= set(METHODS)
    for name, method in ADAPTATION_METHODS.items():
        assert method.name == name and issubclass(method.model, TwoDomainModel)


@pytest.mark.parametrize("name", METHODS)
def test_method_trains_logs_adaptation_loss_and_round_trips(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = _model(name)
    history = _fit(model)
    assert {"loss", "label_loss", "label_accuracy", "adaptation_loss"} <= set(history)
    assert np.isfinite(history["adaptation_loss"]).all()
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    clone = keras.saving.deserialize_keras_object(copy.deepcopy(config))
    assert type(clone) is type(model)
    assert json.loads(json.dumps(keras.saving.serialize_keras_object(clone))) == config
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = _images(5, 2)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_adaptation_weight_is_checked_and_stored(cls):
    with pytest.raises(ValueError, match="`adaptation_weight`"):
        cls(keras.layers.Dense(4), 3, adaptation_weight=-1.0)
    with pytest.raises(ValueError, match="`adaptation_weight`"):
        cls(keras.layers.Dense(4), 3, adaptation_weight=float("nan"))
    with pytest.raises(TypeError, match="`adaptation_weight`"):
        cls(keras.layers.Dense(4), 3, adaptation_weight="high")
    model = cls(keras.layers.Dense(4), 3, adaptation_weight=0.25)
    assert model.adaptation_weight == 0.25 and model.get_config()["adaptation_weight"] == 0.25


# Classes that had another name for the weight before `adaptation_weight` (a new method has none).
RENAMED = [cls for cls in CLASSES if cls._deprecated_weight_name is not None]


def test_the_methods_that_had_an_old_weight_name_still_have_it():
    old = {cls.__name__: cls._deprecated_weight_name for cls in RENAMED}
    assert {"DANN": "scale", "CDAN": "scale", "DiscrepancyModel": "weight"}.items() <= old.items()
    assert set(old.values()) <= {"scale", "weight"}


@pytest.mark.parametrize("cls", RENAMED, ids=lambda cls: cls.__name__)
def test_the_old_weight_name_still_works_with_a_deprecation_warning(cls):
    old = cls._deprecated_weight_name
    with pytest.warns(DeprecationWarning, match=f"`{old}` of {cls.__name__} is deprecated"):
        model = cls(keras.layers.Dense(4), 3, **{old: 0.25})
    assert model.adaptation_weight == 0.25
    config = model.get_config()
    assert old not in config and config["adaptation_weight"] == 0.25
    # a config saved before the rename (the old key) loads silently
    config[old] = config.pop("adaptation_weight")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert cls.from_config(config).adaptation_weight == 0.25
    with pytest.raises(TypeError, match="both `adaptation_weight` and"):
        cls(keras.layers.Dense(4), 3, adaptation_weight=0.5, **{old: 0.25})
    with pytest.raises(ValueError, match=f"received as `{old}`"), pytest.warns(DeprecationWarning):
        cls(keras.layers.Dense(4), 3, **{old: -1.0})


@pytest.mark.backend_neutral
@pytest.mark.parametrize("name", ["coral", "mcc"])
def test_a_scheduled_weight_counts_steps_and_scales_the_term(name):
    keras.utils.set_random_seed(0)
    model = _model(name, adaptation_weight=ReversalSchedule("linear", scale=2.0))
    history = _fit(model, epochs=2, batch_size=24)  # one step per epoch: 2 planned by fit
    assert int(keras.ops.convert_to_numpy(model.scheduled_weight.step)) == 2
    assert model.adaptation_weight.total_steps == 2
    # loss = label_loss + w * adaptation_loss, w = 2 * step / 2: 0 in the first step, 1 in the second
    np.testing.assert_allclose(history["loss"][0], history["label_loss"][0], rtol=1e-5)
    expected = history["label_loss"][1] + history["adaptation_loss"][1]
    np.testing.assert_allclose(history["loss"][1], expected, rtol=1e-5)
    again = type(model).from_config(model.get_config())
    assert again.adaptation_weight.get_config() == model.adaptation_weight.get_config()


def test_every_method_is_offered_by_the_estimator():
    from keras_transfer.sklearn.domain_adaptation_classifier import METHODS as ESTIMATOR_METHODS

    assert set(ADAPTATION_METHODS) <= set(ESTIMATOR_METHODS)


def test_registration_refuses_a_name_taken_by_another_method():
    with pytest.raises(ValueError, match="already registered"):
        register_adaptation_method("dann", ADAPTATION_METHODS["coral"].model)
    with pytest.raises(TypeError, match="TwoDomainModel"):
        register_adaptation_method("not_a_model", keras.Model)
    assert "not_a_model" not in ADAPTATION_METHODS


def test_a_missing_hook_says_which_to_write():
    class NoHooks(TwoDomainModel):
        pass

    model = NoHooks(keras.layers.Dense(4), 2)
    with pytest.raises(NotImplementedError, match="must define adaptation_outputs"):
        model((np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")))
