import gzip
import hashlib
import os

import numpy as np
import pytest

from keras_transfer.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from keras_transfer.datasets import fashion_mnist as fm
from tests.datasets._helpers import go_offline

needs_debian = pytest.mark.skipif(
    not fm.debian_available(), reason="Debian's dataset-fashion-mnist is not installed"
)


def _write_idx(path, arr):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_class_names_are_the_ten_fashion_mnist_classes():
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[0] == "T-shirt/top"
    assert FASHION_MNIST_CLASSES[9] == "Ankle boot"


@pytest.mark.parametrize("split,n", [("train", 6000), ("test", 2000)])
def test_subset_shapes_dtypes_and_balance(split, n):
    x, y = load_fashion_mnist(split, source="subset")
    assert x.shape == (n, 28, 28) and x.dtype == np.uint8
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), np.full(10, n // 10))
    assert x.max() == 255 and x.min() == 0
    # real clothes, not noise: every image has a dark background corner and some ink
    assert np.median(x[:, 0, 0]) == 0 and (x.reshape(n, -1).max(1) > 100).all()


def test_subset_is_writable_copy_not_cache():
    x, _ = load_fashion_mnist("test", source="subset")
    x[:] = 0
    x2, _ = load_fashion_mnist("test", source="subset")
    assert x2.max() == 255


def test_num_per_class_is_balanced_deterministic_and_seeded():
    x, y = load_fashion_mnist("train", source="subset", num_per_class=7, seed=3)
    assert x.shape == (70, 28, 28)
    assert np.array_equal(np.bincount(y), np.full(10, 7))
    x2, y2 = load_fashion_mnist("train", source="subset", num_per_class=7, seed=3)
    assert x.tobytes() == x2.tobytes() and np.array_equal(y, y2)
    x3, _ = load_fashion_mnist("train", source="subset", num_per_class=7, seed=4)
    assert x.tobytes() != x3.tobytes()
    # the draw is a sub-sample of the split, kept in order
    full, _ = load_fashion_mnist("train", source="subset")
    hashes = [hashlib.sha1(img.tobytes()).hexdigest() for img in full]
    positions = [hashes.index(hashlib.sha1(img.tobytes()).hexdigest()) for img in x]
    assert positions == sorted(positions)


def test_num_per_class_too_large_for_subset():
    with pytest.raises(
        ValueError, match=r"num_per_class.*only 200 .*received num_per_class=201.*source='debian'"
    ):
        load_fashion_mnist("test", source="subset", num_per_class=201)
    with pytest.raises(ValueError, match="num_per_class"):
        load_fashion_mnist("test", source="subset", num_per_class=0)


def test_unknown_split_and_source_name_the_argument():
    with pytest.raises(ValueError, match=r"`split`.*received split='tset'.*Did you mean 'test'"):
        load_fashion_mnist("tset", source="subset")
    with pytest.raises(ValueError, match=r"`source`.*received source='debain'.*'debian'"):
        load_fashion_mnist("train", source="debain")


@pytest.mark.parametrize("seed", [1.5, "0", None, True])
def test_seed_must_be_an_integer(seed):
    with pytest.raises(TypeError, match="`seed` must be a non-negative integer"):
        load_fashion_mnist("test", source="subset", num_per_class=1, seed=seed)


@needs_debian
def test_subset_images_are_exactly_debian_images():
    for split in ("train", "test"):
        xs, ys = load_fashion_mnist(split, source="subset")
        xd, yd = load_fashion_mnist(split, source="debian")
        index = fm.load_subset_index(split)
        assert len(xd) == {"train": 60000, "test": 10000}[split]
        for i in (0, 1, len(index) // 2, len(index) - 1):  # by hash, as data/README.md states
            assert hashlib.sha256(xs[i].tobytes()).digest() == hashlib.sha256(xd[index[i]].tobytes()).digest()
        assert np.array_equal(xs, xd[index]) and np.array_equal(ys, yd[index])


@needs_debian
def test_auto_uses_the_full_debian_copy():
    x, y = load_fashion_mnist("test", source="auto")
    assert x.shape == (10000, 28, 28) and np.array_equal(np.bincount(y), np.full(10, 1000))


def test_debian_folder_from_environment_variable(tmp_path, monkeypatch):
    xs, ys = load_fashion_mnist("test", source="subset")
    for prefix in ("train", "t10k"):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", xs[:50])
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", ys[:50])
    monkeypatch.setenv(fm.DEBIAN_DIR_ENV, str(tmp_path))
    x, y = load_fashion_mnist("train", source="debian")
    assert np.array_equal(x, xs[:50]) and np.array_equal(y, ys[:50])
    assert fm.read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz").shape == (50,)


def test_debian_source_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(fm.DEBIAN_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"source='debian'.*{fm.DEBIAN_DIR_ENV}"):
        load_fashion_mnist("train", source="debian")


def test_keras_source_offline_is_a_clear_error(tmp_path, monkeypatch):
    go_offline(monkeypatch, tmp_path)
    with pytest.raises(ConnectionError, match=r"source='keras'.*network disabled.*source='subset'"):
        load_fashion_mnist("test", source="keras")


def test_auto_falls_back_to_subset_offline_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv(fm.DEBIAN_DIR_ENV, str(tmp_path / "absent"))
    go_offline(monkeypatch, tmp_path)
    with pytest.warns(UserWarning, match="shipped class-balanced subset"):
        x, y = load_fashion_mnist("test", source="auto")
    assert x.shape == (2000, 28, 28)


@needs_debian
def test_keras_source_reads_the_keras_cache_offline(tmp_path, monkeypatch):
    cache = tmp_path / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for f in fm.debian_dir().glob("*-ubyte.gz"):
        os.symlink(f, cache / f.name)
    go_offline(monkeypatch, tmp_path)
    xk, yk = load_fashion_mnist("test", source="keras")
    xd, yd = load_fashion_mnist("test", source="debian")
    assert np.array_equal(xk, xd) and np.array_equal(yk, yd) and yk.dtype == np.int64


def test_shipped_subset_matches_the_record_in_data_readme():
    from pathlib import Path

    recorded = {
        "x_train": "2cc21eb51ea63603a106c9f35e0ac3680e82e9c89aca6c154c19ff85887ec17d",
        "y_train": "64d5c4b6c23f8791a80aef395002fd4fceb205cbd920f6892c056fb0bcabe047",
        "x_test": "d1d4157f3e76f859c4b380a2a44d40611e995b92f4cef47efb9b115260261c36",
        "test_index": "b10c7334226941d863f0801dbccd7b1e93d90208d2c21d373b1c241a0264467e",
    }
    with np.load(fm.subset_path()) as data:
        for name, digest in recorded.items():
            assert hashlib.sha256(np.ascontiguousarray(data[name]).tobytes()).hexdigest() == digest
    readme = Path(__file__).resolve().parents[2] / "data" / "README.md"
    if readme.is_file():  # source checkout
        text = readme.read_text()
        assert all(d in text for d in recorded.values())
        assert hashlib.sha256(fm.subset_path().read_bytes()).hexdigest() in text
