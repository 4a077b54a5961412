"""DANNSelfTraining: DANN for the first ``switch`` share of fit's steps, then self-training."""

import keras
import numpy as np
import pytest

from keras_transfer.models import DANN, DANNSelfTraining, SelfTraining

pytestmark = pytest.mark.backend_neutral


def _data(n_source=64, n_target=48):
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(n_source, 2)).astype("float32")
    ys = (xs[:, 0] > 0).astype("int32")
    xt = (rng.normal(size=(n_target, 2)) + 1.0).astype("float32")
    return xs, ys, xt


def _model(**kwargs):
    kwargs.setdefault("weak_augmentation", keras.layers.GaussianNoise(0.05))
    kwargs.setdefault("strong_augmentation", keras.layers.GaussianNoise(0.3))
    return DANNSelfTraining(keras.layers.Dense(8, activation="relu"), 2, **kwargs)


def _fit(model, epochs, **kwargs):
    xs, ys, xt = _data()
    model.compile(optimizer="adam")
    return model.fit(x=(xs, xt), y=ys, epochs=epochs, batch_size=16, verbose=0, **kwargs).history


def test_phases_follow_switch_and_ramp_completes_in_the_dann_phase():
    keras.utils.set_random_seed(0)
    model = _model(switch=0.25)
    history = _fit(model, epochs=4)  # 4 steps an epoch: the first epoch is DANN
    assert history["phase"] == [0.0, 1.0, 1.0, 1.0]
    assert float(model.phase_switch.switch_step.numpy()) == 4.0
    assert float(model.reversal.total_steps.numpy()) == 4.0  # the ramp is planned over DANN's steps
    assert history["reversal_scale"][1] == pytest.approx(1.0, abs=2e-3)  # ramp complete afterwards
    # in the self-training phase the logged term is the pseudo-label loss (not the domain loss)
    assert (
        history["adaptation_loss"][0] > 0.3 and history["adaptation_loss"][1] < history["adaptation_loss"][0]
    )


def test_self_training_phase_stops_the_domain_head_and_dann_phase_trains_it():
    xs, ys, xt = _data()
    keras.utils.set_random_seed(0)
    model = _model(switch=0.5)
    model.compile(optimizer=keras.optimizers.SGD(0.1))  # no momentum: a zero gradient moves nothing
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, verbose=0)
    # the first fit planned the switch at step 2 of 4; train on, in the self-training phase
    before = [w.numpy().copy() for w in model.domain_head.trainable_weights]
    history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, verbose=0).history
    assert history["phase"] == [1.0]
    for b, w in zip(before, model.domain_head.trainable_weights):
        np.testing.assert_array_equal(w.numpy(), b)
    keras.utils.set_random_seed(0)
    dann_only = _model(switch=1.0)
    dann_only.compile(optimizer=keras.optimizers.SGD(0.1))
    dann_only.build((None, 2))
    start = [w.numpy().copy() for w in dann_only.domain_head.trainable_weights]
    history = dann_only.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, verbose=0).history
    assert history["phase"] == [0.0]
    assert any(not np.allclose(w.numpy(), s) for w, s in zip(dann_only.domain_head.trainable_weights, start))


def test_switch_zero_is_self_training_and_matches_selftraining_loss_terms():
    keras.utils.set_random_seed(0)
    history = _fit(_model(switch=0.0), epochs=2)
    assert history["phase"] == [1.0, 1.0]
    assert set(history) >= {"mask_rate", "domain_accuracy", "reversal_scale", "adaptation_loss"}


def test_save_load_keeps_the_phase_and_a_clone_replans(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model(switch=0.5, threshold=0.8, self_training_weight=0.5)
    _fit(model, epochs=2)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    xs, ys, xt = _data()
    np.testing.assert_allclose(loaded.predict(xt, verbose=0), model.predict(xt, verbose=0), atol=1e-6)
    assert (
        int(loaded.phase_switch.step.numpy()) == 8 and float(loaded.phase_switch.switch_step.numpy()) == 4.0
    )
    assert (loaded.switch, loaded.threshold, loaded.self_training_weight) == (0.5, 0.8, 0.5)
    clone = DANNSelfTraining.from_config(model.get_config())
    history = _fit(clone, epochs=4)  # a fresh copy plans its own switch (8 of 16 steps)
    assert history["phase"] == [0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"switch": 1.5}, "switch"),
        ({"switch": "half"}, "switch"),
        ({"self_training_weight": -1.0}, "self_training_weight"),
        ({"threshold": 2.0}, "threshold"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        _model(**kwargs)


def test_default_views_need_images():
    model = DANNSelfTraining(keras.layers.Dense(8), 2)
    xs, ys, xt = _data()
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="weak_augmentation"):
        model.fit(x=(xs, xt), y=ys, epochs=1, verbose=0)


def test_is_a_dann_and_shares_selftraining_views():
    model = _model()
    assert isinstance(model, DANN) and not isinstance(model, SelfTraining)
    assert model.weak_augmentation is not None and model.strong_augmentation is not None
