"""Small seeded domain shifts for the adaptation tests, and a helper that trains on one."""

import keras
import numpy as np


def shifted_pair(seed, n=1024):
    """Feature 0 carries the label in both domains; feature 1 carries it too but is shifted by
    -3 in the target (a cue that does not transfer); features 2-3 are noise."""
    rng = np.random.default_rng(seed)

    def domain(shift):
        y = rng.integers(0, 2, n)
        sign = 2.0 * y - 1.0
        a = sign + 0.6 * rng.normal(size=n)
        b = sign + 0.6 * rng.normal(size=n) + shift
        return np.column_stack([a, b, rng.normal(size=(n, 2))]).astype("float32"), y

    (xs, ys), (xt, yt) = domain(0.0), domain(-3.0)
    return xs, ys, xt, yt


def blobs(seed, n=512, shift=1.5):
    """Two Gaussian blobs per class, (+-2, +-1.5) with std 0.5, and a noise dimension; the
    target is the source moved by ``shift`` along the class axis, so a source classifier cuts
    through one target blob while the target still forms well separated clusters."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, 1.5], [-2.0, -1.5], [2.0, 1.5], [2.0, -1.5]])

    def domain(move):
        blob = rng.integers(0, 4, n)
        x = centres[blob] + 0.5 * rng.normal(size=(n, 2)) + np.array([move, 0.0])
        return np.column_stack([x, 0.5 * rng.normal(size=n)]).astype("float32"), (blob >= 2).astype("int64")

    (xs, ys), (xt, yt) = domain(0.0), domain(shift)
    return xs, ys, xt, yt


def rescaled_blobs(seed, n=512):
    """`blobs` without the shift, the target rescaled and moved per dimension (a change of
    units and offsets per input, which per-domain standardisation undoes)."""
    xs, ys, xt, yt = blobs(seed, n, shift=0.0)
    xt = (xt * np.array([2.0, 0.5, 1.5]) + np.array([3.0, -2.0, 1.0])).astype("float32")
    return xs, ys, xt, yt


def mlp(units=(32, 16)):
    return keras.Sequential([keras.layers.Dense(u, activation="relu") for u in units])


def target_accuracy(make_model, data, seed, epochs, batch_size=64, learning_rate=1e-2):
    """Seed everything, build ``make_model()``, fit it on ``data(seed)``; return target accuracy."""
    keras.utils.set_random_seed(seed)
    xs, ys, xt, yt = data(seed)
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), steps_per_execution=8)
    model.fit(x=(xs, xt), y=ys, epochs=epochs, batch_size=batch_size, verbose=0)
    return float(np.mean(model.predict(xt, batch_size=1024, verbose=0).argmax(1) == yt))
