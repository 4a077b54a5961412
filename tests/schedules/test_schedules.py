"""ReversalSchedule and DANNLearningRate: formulas, config, and the lambda applied at each step."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_transfer.layers import GradientReversal
from keras_transfer.schedules import DANNLearningRate, ReversalSchedule


def dann_lambda(step, total, gamma=10.0, scale=1.0):
    p = np.minimum(np.asarray(step, "float64") / total, 1.0)
    return scale * (2.0 / (1.0 + np.exp(-gamma * p)) - 1.0)


@pytest.mark.backend_neutral
def test_reversal_schedule_kinds_match_formulas():
    steps = np.arange(0, 130, 7)
    dann = ReversalSchedule("dann", scale=0.8, gamma=5.0, total_steps=100)
    linear = ReversalSchedule("linear", scale=2.0, total_steps=100)
    constant = ReversalSchedule("constant", scale=0.3)
    for s in steps:
        np.testing.assert_allclose(float(dann(s)), dann_lambda(s, 100, 5.0, 0.8), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(float(linear(s)), 2.0 * min(s / 100, 1.0), rtol=1e-6)
        np.testing.assert_allclose(float(constant(s)), 0.3, rtol=1e-7)


@pytest.mark.backend_neutral
def test_reversal_schedule_config_round_trip_and_errors():
    schedule = ReversalSchedule("linear", scale=0.5, gamma=3.0, total_steps=9)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert again.get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="`kind` must be one of"):
        ReversalSchedule("exp")
    with pytest.raises(ValueError, match="`total_steps` must be"):
        ReversalSchedule(total_steps=0)
    with pytest.raises(ValueError, match="needs `total_steps`"):
        ReversalSchedule("dann")(3)


@pytest.mark.backend_neutral
def test_dann_learning_rate_matches_paper_formula_and_round_trips():
    schedule = DANNLearningRate(total_steps=50)
    for s in (0, 10, 25, 50, 80):
        p = min(s / 50, 1.0)
        np.testing.assert_allclose(float(schedule(s)), 0.01 / (1 + 10 * p) ** 0.75, rtol=1e-6)
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(again, DANNLearningRate) and again.get_config() == schedule.get_config()
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    np.testing.assert_allclose(float(optimizer.learning_rate), 0.01, rtol=1e-6)
    with pytest.raises(ValueError, match="`total_steps` must be an integer >= 1"):
        DANNLearningRate(total_steps=2.5)


@pytest.mark.backend_neutral
@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_lambda_applied_at_each_step_matches_formula(steps_per_execution):
    # Step t feeds the one-hot row e_t: its gradient reaches kernel[t] only, as -lambda_t, so
    # after SGD(lr=1) from zeros kernel[t] == lambda_t for every step, including the steps a
    # per-batch callback would not see with steps_per_execution > 1.
    total = 12
    inputs = keras.Input((total,))
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")
    grl = GradientReversal(ReversalSchedule("dann", total_steps=total))
    model = keras.Model(inputs, grl(dense(inputs)))
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1.0),
        loss=lambda y_true, y_pred: ops.mean(y_pred, axis=-1),
        steps_per_execution=steps_per_execution,
    )
    x = np.eye(total, dtype="float32")
    model.fit(x, np.zeros((total, 1), "float32"), batch_size=1, shuffle=False, epochs=1, verbose=0)
    applied = ops.convert_to_numpy(dense.kernel)[:, 0]
    np.testing.assert_allclose(applied, dann_lambda(np.arange(total), total), rtol=1e-5, atol=1e-7)
    assert int(ops.convert_to_numpy(grl.step)) == total
