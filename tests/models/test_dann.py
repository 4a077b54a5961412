"""DANN: beats source-only on a shifted two-domain problem, logs the in-graph lambda, saves and
loads, trains on tf.data, under mixed precision and under MirroredStrategy; refuses bad input."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_transfer.layers import GradientReversal
from keras_transfer.models import DANN
from keras_transfer.schedules import ReversalSchedule
from tests.models._synthetic import mlp, shifted_pair

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def target_accuracy(seed, scale):
    keras.utils.set_random_seed(seed)
    xs, ys, xt, yt = shifted_pair(seed)
    model = DANN(mlp(), 2, adaptation_weight=scale)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=16)
    model.fit(x=(xs, xt), y=ys, epochs=4, batch_size=64, verbose=0)
    return float(np.mean(model.predict(xt, batch_size=1024, verbose=0).argmax(1) == yt))


def test_dann_beats_source_only_on_target_over_three_seeds():
    # source-only = the same network with the reversal weight fixed at 0
    source_only = np.array([target_accuracy(s, 0.0) for s in range(3)])
    dann = np.array([target_accuracy(s, ReversalSchedule("dann")) for s in range(3)])
    assert np.all(dann > source_only + 0.03), (source_only, dann)
    assert dann.mean() > source_only.mean() + 0.15, (source_only, dann)


def _small(seed=0, n_source=96, n_target=80):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n_source, 4)).astype("float32")
    ys = rng.integers(0, 3, n_source)
    xt = (rng.normal(size=(n_target, 4)) + 1.0).astype("float32")
    yt = rng.integers(0, 3, n_target)
    return xs, ys, xt, yt


@pytest.mark.backend_neutral
def test_dann_logs_lambda_matching_formula_with_steps_per_execution():
    xs, ys, xt, _ = _small()
    model = DANN(mlp((8,)), 3)
    model.compile(optimizer="sgd", steps_per_execution=5)
    history = model.fit(x=(xs, xt), y=ys, epochs=2, batch_size=8, verbose=0).history
    total = 2 * 12
    assert model.reversal.scale.total_steps == total
    assert int(keras.ops.convert_to_numpy(model.reversal.step)) == total
    steps = np.arange(total)
    lam = 2.0 / (1.0 + np.exp(-10.0 * steps / total)) - 1.0
    np.testing.assert_allclose(history["reversal_scale"], [lam[:12].mean(), lam[12:].mean()], rtol=1e-5)
    for key in ("loss", "label_loss", "adaptation_loss", "label_accuracy", "domain_accuracy"):
        assert np.all(np.isfinite(history[key])), key


@pytest.mark.backend_neutral
def test_dann_keras_round_trip_gives_same_predictions(tmp_path):
    xs, ys, xt, _ = _small()
    model = DANN(mlp((8,)), 3, adaptation_weight=ReversalSchedule("linear", scale=0.5))
    model.compile(optimizer="adam")
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0)
    path = str(tmp_path / "dann.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, DANN) and isinstance(loaded.reversal, GradientReversal)
    np.testing.assert_array_equal(loaded.predict(xt, verbose=0), model.predict(xt, verbose=0))
    assert loaded.reversal.scale.get_config() == model.reversal.scale.get_config()
    assert int(keras.ops.convert_to_numpy(loaded.reversal.step)) == 3
    config = model.get_config()
    assert DANN.from_config(config).get_config()["adaptation_weight"] == config["adaptation_weight"]
    loaded.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0)  # keeps training


def test_dann_trains_on_tf_data_and_evaluates_on_target():
    import tensorflow as tf

    xs, ys, xt, yt = _small()
    data = tf.data.Dataset.from_tensor_slices(((xs, xt[: len(xs) - 16].repeat(2, 0)[: len(xs)]), ys))
    model = DANN(mlp((8,)), 3)
    model.compile(optimizer="adam")
    history = model.fit(data.batch(32), epochs=2, verbose=0).history
    assert model.reversal.scale.total_steps == 6
    assert len(history["reversal_scale"]) == 2
    result = model.evaluate(xt, yt, verbose=0, return_dict=True)
    assert 0.0 <= result["label_accuracy"] <= 1.0
    probs = model.predict(xt, verbose=0)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_dann_mixed_precision():
    xs, ys, xt, _ = _small()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = DANN(mlp((8,)), 3)
        model.compile(optimizer="adam")
        history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0).history
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert np.isfinite(history["loss"][0])
        assert model.predict(xt, verbose=0).dtype == np.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (lambda xs, ys, xt, yt: dict(x=(xs, xt), y=(ys, yt)), "Target labels are not allowed"),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt[:, :3]), y=ys), "same per-example shape"),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt[:0]), y=ys), "`x` must hold at least one target example"),
        (lambda xs, ys, xt, yt: dict(x=xs, y=ys), r"must be a pair \(source_x, target_x\)"),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt), y=ys[:10]), "`y` must have one label per example"),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt), y=None), "source labels"),
        (lambda xs, ys, xt, yt: dict(x=(xs[:0], xt), y=ys[:0]), "`x` must hold at least one source example"),
        (
            lambda xs, ys, xt, yt: dict(x=(np.full_like(xs, np.nan), xt), y=ys),
            "`x` contains NaN or infinite values",
        ),
        (
            lambda xs, ys, xt, yt: dict(x=(xs, xt * np.inf), y=ys),
            "`x` contains NaN or infinite values.*target",
        ),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt), y=ys * 0.5 + 0.25), "`y` must hold integer class labels"),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt), y=ys + 3), r"`y` must hold class labels in \[0, 2\]"),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt), y=ys - 1), "`y` must hold class labels >= 0"),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt), y=ys.astype(str)), "`y`.*strings.*LabelEncoder"),
        (lambda xs, ys, xt, yt: dict(x=(xs, xt), y=np.eye(3)[ys]), "`y`.*one-hot"),
    ],
)
def test_dann_fit_bad_input_raises_clear_errors(kwargs, match):
    xs, ys, xt, yt = _small()
    model = DANN(mlp((8,)), 3)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=match):
        model.fit(**kwargs(xs, ys, xt, yt), epochs=1, verbose=0)


def test_dann_refuses_target_labels_in_a_dataset():
    import tensorflow as tf

    xs, ys, xt, yt = _small(n_target=96)
    data = tf.data.Dataset.from_tensor_slices(((xs, xt), (ys, yt))).batch(32)
    model = DANN(mlp((8,)), 3)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="Target labels are not allowed"):
        model.fit(data, epochs=1, verbose=0)


@pytest.mark.backend_neutral
def test_dann_constructor_errors():
    with pytest.raises(ValueError, match="`feature_extractor` must be a Keras model or layer"):
        DANN("resnet", 2)
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        DANN(mlp(), 1)
    with pytest.raises(ValueError, match="`adaptation_weight` must be"):
        DANN(mlp(), 2, adaptation_weight=-1.0)


def test_dann_fit_step_under_mirrored_strategy_on_two_cpu_devices():
    script = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras
        from keras_transfer.models import DANN
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        rng = np.random.default_rng(0)
        xs, ys = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 2, 64)
        xt = (rng.normal(size=(64, 4)) + 1).astype("float32")
        with strategy.scope():
            model = DANN(keras.Sequential([keras.layers.Dense(8, activation="relu")]), 2)
            model.compile(optimizer="adam")
        history = model.fit(x=(xs, xt), y=ys, epochs=2, batch_size=16, verbose=0).history
        assert strategy.num_replicas_in_sync == 2
        assert all(np.isfinite(history["loss"])), history
        step = int(model.reversal.step.numpy())
        assert step == 8, step
        print("MIRRORED_OK", history["reversal_scale"])
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MIRRORED_OK" in result.stdout


@pytest.mark.backend_neutral
def test_dann_clone_of_a_fitted_model_plans_its_own_reversal_ramp():
    xs, ys, xt, _ = _small()
    model = DANN(mlp((8,)), 3)
    model.compile(optimizer="sgd")
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=96, verbose=0)  # 1 step: total_steps=1
    assert model.reversal.scale.total_steps == 1
    clone = keras.models.clone_model(model)
    clone.compile(optimizer="sgd")
    history = clone.fit(x=(xs, xt), y=ys, epochs=2, batch_size=8, verbose=0).history
    assert clone.reversal.scale.total_steps == 24  # planned anew, not the original's 1
    lam = 2.0 / (1.0 + np.exp(-10.0 * np.arange(24) / 24)) - 1.0
    np.testing.assert_allclose(history["reversal_scale"], [lam[:12].mean(), lam[12:].mean()], rtol=1e-5)
    # a model loaded with its steps taken keeps its plan (continues where it stopped)
    again = DANN.from_config(model.get_config())
    assert again.get_config()["adaptation_weight_planned"] is True


def test_dann_validation_split_validates_on_held_out_source_rows():
    xs, ys, xt, _ = _small(n_source=40, n_target=80)
    model = DANN(mlp((8,)), 3)
    model.compile(optimizer="adam")
    history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, validation_split=0.25, verbose=0).history
    assert 0.0 <= history["val_label_accuracy"][0] <= 1.0
    expected = model.evaluate(xs[30:], ys[30:], verbose=0, return_dict=True)["label_accuracy"]
    assert history["val_label_accuracy"][0] == pytest.approx(expected)
