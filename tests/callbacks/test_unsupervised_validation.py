"""UnsupervisedValidation logs every model-selection score into the History each epoch."""

import keras
import numpy as np
import pytest

from keras_transfer.adaptation import prediction_entropy
from keras_transfer.callbacks import UnsupervisedValidation
from keras_transfer.models import DANN


def _data(seed=0):
    rng = np.random.default_rng(seed)
    ys = rng.integers(0, 2, 128)
    xs = (rng.normal(size=(128, 3)) + 2 * ys[:, None]).astype("float32")
    xt = (rng.normal(size=(96, 3)) + 2 * rng.integers(0, 2, 96)[:, None] + 0.5).astype("float32")
    return xs, ys, xt


def test_unsupervised_validation_logs_all_scores_on_dann():
    xs, ys, xt = _data()
    model = DANN(keras.Sequential([keras.layers.Dense(8, activation="relu")]), 2)
    model.compile(optimizer="adam")
    callback = UnsupervisedValidation(xt, source_x=xs[:64], source_y=ys[:64], batch_size=64)
    history = model.fit(x=(xs, xt), y=ys, epochs=2, batch_size=32, verbose=0, callbacks=[callback])
    for name in ("entropy", "snd", "dev", "reverse_validation"):
        assert len(history.history[name]) == 2 and np.all(np.isfinite(history.history[name])), name
    # the logged value is the function applied to the model's current target predictions
    expected = prediction_entropy(model.predict(xt, verbose=0))
    assert history.history["entropy"][-1] == pytest.approx(expected, rel=1e-5)
    assert 0.0 <= history.history["reverse_validation"][-1] <= 1.0


def test_unsupervised_validation_bad_arguments():
    xs, ys, xt = _data()
    with pytest.raises(ValueError, match="`scores` must be a non-empty subset"):
        UnsupervisedValidation(xt, scores=("accuracy",))
    with pytest.raises(ValueError, match="need held-out labelled source data"):
        UnsupervisedValidation(xt, scores=("dev",))
    with pytest.raises(ValueError, match="`target_x` is empty"):
        UnsupervisedValidation(xt[:0], scores=("entropy",))
    with pytest.raises(ValueError, match="one label per"):
        UnsupervisedValidation(xt, source_x=xs, source_y=ys[:5])
