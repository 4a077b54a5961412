"""GradientReversal: exact identity forward, exactly -scale * upstream backward, on TF and JAX."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_transfer.layers import GradientReversal
from keras_transfer.schedules import ReversalSchedule


def vjp(fn, x, upstream):
    """Gradient of sum(fn(x) * upstream) w.r.t. x, on the active backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return np.asarray(tape.gradient(y, x, output_gradients=tf.convert_to_tensor(upstream)))
    if backend == "jax":
        import jax

        _, pullback = jax.vjp(fn, jax.numpy.asarray(x))
        return np.asarray(pullback(jax.numpy.asarray(upstream))[0])
    pytest.skip(f"no gradient helper for backend {backend}")


def _data(dtype="float32"):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(16, 7)) * np.exp(rng.uniform(-20, 20, size=(16, 7)))).astype(dtype)
    upstream = rng.normal(size=(16, 7)).astype(dtype)
    return x, upstream


@pytest.mark.backend_neutral
@pytest.mark.parametrize("scale", [0.0, 0.37, 1.0, 3.3])
def test_gradient_reversal_forward_is_bit_exact(scale):
    x, _ = _data()
    out = ops.convert_to_numpy(GradientReversal(scale)(x))
    assert out.dtype == np.float32
    assert np.array_equal(out, x)


@pytest.mark.backend_neutral
def test_gradient_reversal_forward_is_bit_exact_in_float16():
    x = np.random.default_rng(1).normal(size=(8, 5)).astype("float16")
    out = ops.convert_to_numpy(GradientReversal(0.3, dtype="mixed_float16")(x))
    assert out.dtype == np.float16 and np.array_equal(out, x)


@pytest.mark.backend_neutral
@pytest.mark.parametrize("scale", [0.0, 0.37, 1.0, 3.3])
def test_gradient_reversal_gradient_is_exactly_minus_scale_times_upstream(scale):
    x, upstream = _data()
    layer = GradientReversal(scale)
    grad = vjp(lambda t: layer(t), x, upstream)
    expected = -(np.float32(scale) * upstream)
    assert np.array_equal(grad, expected)


@pytest.mark.backend_neutral
def test_gradient_reversal_schedule_counts_training_calls_and_follows_formula():
    layer = GradientReversal(ReversalSchedule("dann", gamma=10.0, total_steps=10))
    x, upstream = _data()
    for step in range(4):
        expected = np.float32(2.0 / (1.0 + np.exp(-10.0 * step / 10.0)) - 1.0)
        np.testing.assert_allclose(float(layer.current_scale()), expected, rtol=1e-6)
        grad = vjp(lambda t: layer(t), x, upstream)  # inference call: does not count
        np.testing.assert_allclose(grad, -expected * upstream, rtol=1e-6)
        layer(x, training=True)
    assert int(ops.convert_to_numpy(layer.step)) == 4


@pytest.mark.backend_neutral
def test_gradient_reversal_float_scale_does_not_count_steps():
    layer = GradientReversal(0.5)
    layer(np.ones((2, 3), "float32"), training=True)
    assert layer.schedule is None
    assert int(ops.convert_to_numpy(layer.step)) == 0


@pytest.mark.backend_neutral
def test_gradient_reversal_schedule_without_total_steps_raises_in_training_only():
    layer = GradientReversal(ReversalSchedule("linear"))
    x = np.ones((2, 3), "float32")
    assert np.array_equal(ops.convert_to_numpy(layer(x)), x)  # inference is fine
    with pytest.raises(ValueError, match="set_total_steps"):
        layer(x, training=True)
    layer.set_total_steps(4)
    layer(x, training=True)
    np.testing.assert_allclose(float(layer.current_scale()), 0.25, rtol=1e-6)


@pytest.mark.backend_neutral
@pytest.mark.parametrize("bad", [-1.0, float("nan"), "big", True])
def test_gradient_reversal_rejects_bad_scale(bad):
    with pytest.raises(ValueError, match="`scale` must be"):
        GradientReversal(bad)


@pytest.mark.backend_neutral
def test_gradient_reversal_config_round_trip():
    for scale in (0.25, ReversalSchedule("linear", scale=2.0, total_steps=7)):
        layer = GradientReversal(scale, name="grl")
        clone = GradientReversal.from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    assert isinstance(clone.scale, ReversalSchedule) and clone.scale.total_steps == 7


@pytest.mark.backend_neutral
def test_gradient_reversal_keras_save_load(tmp_path):
    inputs = keras.Input((3,))
    grl = GradientReversal(ReversalSchedule("dann", total_steps=20))
    outputs = keras.layers.Dense(2)(grl(inputs))
    model = keras.Model(inputs, outputs)
    grl.step.assign(5)
    path = str(tmp_path / "grl.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded(x)), ops.convert_to_numpy(model(x)))
    layer = next(la for la in loaded.layers if isinstance(la, GradientReversal))
    assert int(ops.convert_to_numpy(layer.step)) == 5
    assert layer.scale.total_steps == 20
