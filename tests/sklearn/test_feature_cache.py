"""The disk feature cache: its format, every kind of damaged entry, and concurrent writers."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from keras_transfer.sklearn import FeatureExtractor, _disk_cache, clear_feature_cache, feature_cache_info
from keras_transfer.sklearn._disk_cache import FeatureCacheWarning
from keras_transfer.sklearn.feature_extractor import FeatureExtractor as FE
from tests.sklearn._tiny import TINY_CNN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def counted(monkeypatch):
    """Count uncached extractions (real backbone runs) across every instance and clone."""
    calls = []
    original = FE._extract

    def counting(self, images):
        calls.append(len(images))
        return original(self, images)

    monkeypatch.setattr(FE, "_extract", counting)
    clear_feature_cache()
    return calls


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)


def test_disk_cache_entry_is_a_plain_npy_and_a_checksummed_sidecar(tmp_path):
    features = np.arange(12, dtype="float32").reshape(3, 4)
    _disk_cache.write(str(tmp_path), "key", features)
    assert sorted(os.listdir(tmp_path)) == ["key.json", "key.npy"]  # no temporary file left
    meta = json.loads((tmp_path / "key.json").read_text())
    assert meta["format"] == "keras_transfer.feature_cache" and meta["version"] == 1
    assert meta["shape"] == [3, 4] and meta["dtype"] == "float32" and len(meta["sha256"]) == 64
    np.testing.assert_array_equal(np.load(tmp_path / "key.npy", allow_pickle=False), features)
    np.testing.assert_array_equal(_disk_cache.read(str(tmp_path), "key", (3, 4)), features)
    assert _disk_cache.read(str(tmp_path), "absent") is None


def _truncate(npy, meta):
    npy.write_bytes(npy.read_bytes()[:-7])


def _random_bytes(npy, meta):
    npy.write_bytes(np.random.default_rng(1).bytes(len(npy.read_bytes())))


def _bit_flip(npy, meta):  # the header stays intact: numpy alone would load NaN-free garbage
    raw = bytearray(npy.read_bytes())
    raw[-3] ^= 0x40
    npy.write_bytes(bytes(raw))


def _wrong_shape(npy, meta):  # a self-consistent entry of the wrong shape
    key = npy.name[: -len(".npy")]
    _disk_cache.write(str(npy.parent), key, np.zeros((2, 5), "float32"))


def _missing_sidecar(npy, meta):  # also what versions before the sidecar format left behind
    meta.unlink()


def _garbled_sidecar(npy, meta):
    meta.write_bytes(b"\x00\xff not json")


@pytest.mark.parametrize(
    "damage", [_truncate, _random_bytes, _bit_flip, _wrong_shape, _missing_sidecar, _garbled_sidecar]
)
def test_damaged_disk_entry_is_rebuilt_with_a_warning_naming_the_file(damage, counted, images, tmp_path):
    fe = FeatureExtractor(**TINY_CNN, cache=str(tmp_path), verbose=0)
    first = fe.fit(images).transform(images)
    (npy,) = tmp_path.glob("*.npy")
    damage(npy, npy.with_suffix(".json"))
    clear_feature_cache()
    with pytest.warns(FeatureCacheWarning, match="recomputed") as record:
        second = clone(fe).fit(images).transform(images)
    message = str(record[0].message)
    assert os.path.basename(str(npy))[:-4] in message  # names the entry's file
    assert "allow_pickle" not in message
    assert counted == [6, 6]  # recomputed, not loaded
    np.testing.assert_array_equal(second, first)
    clear_feature_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten entry is valid again
        third = clone(fe).fit(images).transform(images)
    assert counted == [6, 6] and feature_cache_info()["disk_hits"] == 1
    np.testing.assert_array_equal(third, first)


def test_disk_cache_never_unpickles(tmp_path):
    """A pickled object array with a matching checksum is refused by np.load(allow_pickle=False)."""
    import hashlib
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    raw = buffer.getvalue()
    (tmp_path / "key.npy").write_bytes(raw)
    meta = {"format": _disk_cache.FORMAT, "version": 1, "sha256": hashlib.sha256(raw).hexdigest()}
    (tmp_path / "key.json").write_text(json.dumps({**meta, "shape": [1], "dtype": "float32"}))
    with pytest.warns(FeatureCacheWarning, match="not a plain .npy array"):
        assert _disk_cache.read(str(tmp_path), "key") is None


_WRITER = """
import sys, warnings
import numpy as np
from keras_transfer.sklearn import _disk_cache

folder, mode, me = sys.argv[1], sys.argv[2], int(sys.argv[3])
arrays = [np.full((50, 40), i, "float32") + np.arange(40, dtype="float32") for i in range(3)]
mine = arrays[0] if mode == "same" else arrays[me]
if mode == "same":
    warnings.simplefilter("error")
for _ in range(60):
    _disk_cache.write(folder, "shared", mine)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always" if mode != "same" else "error")
        got = _disk_cache.read(folder, "shared", (50, 40))
    if mode == "same":
        assert got is not None and np.array_equal(got, mine)
    else:  # another writer's whole array, or a miss: never a mixture or a torn file
        assert got is None or any(np.array_equal(got, a) for a in arrays)
print("ok")
"""


@pytest.mark.parametrize("mode", ["same", "different"])
def test_disk_cache_three_concurrent_writers(mode, tmp_path):
    """Three processes write and read one entry at once: every read is whole and verified."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), mode, str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and out.strip() == "ok", err[-2000:]
    assert sorted(os.listdir(tmp_path)) == ["shared.json", "shared.npy"]  # no temporary file left
    with warnings.catch_warnings(record=True):
        final = _disk_cache.read(str(tmp_path), "shared", (50, 40))
    assert mode == "different" or final is not None


def test_disk_cache_symlinked_npy_to_a_folder_is_a_bad_entry_and_is_replaced(tmp_path):
    features = np.arange(12, dtype="float32").reshape(3, 4)
    _disk_cache.write(str(tmp_path), "key", features)
    os.remove(tmp_path / "key.npy")
    (tmp_path / "somewhere").mkdir()
    os.symlink(tmp_path / "somewhere", tmp_path / "key.npy")
    with pytest.warns(FeatureCacheWarning, match="symbolic link"):
        assert _disk_cache.read(str(tmp_path), "key", (3, 4)) is None
    assert _disk_cache.write(str(tmp_path), "key", features) is True  # the link, not its target, replaced
    assert not (tmp_path / "key.npy").is_symlink() and os.listdir(tmp_path / "somewhere") == []
    np.testing.assert_array_equal(_disk_cache.read(str(tmp_path), "key", (3, 4)), features)


def test_disk_cache_huge_bogus_npy_is_refused_by_size_before_reading(tmp_path):
    features = np.arange(12, dtype="float32").reshape(3, 4)
    _disk_cache.write(str(tmp_path), "key", features)
    with open(tmp_path / "key.npy", "r+b") as fh:
        fh.truncate(400 * 2**20)  # 400 MB (sparse: no disk used)
    with pytest.warns(FeatureCacheWarning, match=r"419430400 bytes, more than the \d+ its shape allows"):
        assert _disk_cache.read(str(tmp_path), "key", (3, 4)) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_disk_cache_planted_fifo_does_not_hang_the_reader(tmp_path):
    import threading

    _disk_cache.write(str(tmp_path), "key", np.zeros((3, 4), "float32"))
    os.remove(tmp_path / "key.npy")
    os.mkfifo(tmp_path / "key.npy")  # opening it for reading waits for a writer, forever
    result = []

    def read():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result.append((_disk_cache.read(str(tmp_path), "key", (3, 4)), [str(w.message) for w in caught]))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    if reader.is_alive():  # unblock the thread before failing
        with open(tmp_path / "key.npy", "wb"):
            pass
        pytest.fail("reading a cache entry that is a FIFO blocked")
    features, messages = result[0]
    assert features is None and any("not a regular file" in m for m in messages)


def test_failed_cache_write_warns_cleans_up_and_returns_the_features(counted, images, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    fe = FeatureExtractor(**TINY_CNN, cache=str(blocker / "cache"), verbose=0)
    with pytest.warns(FeatureCacheWarning, match="`cache`.*NotADirectoryError"):
        features = fe.fit(images).transform(images)
    assert features.shape[0] == 6 and counted == [6]
    # the sidecar can be written but the features cannot: no orphan sidecar is left behind
    folder = tmp_path / "cache"
    fe = FeatureExtractor(**TINY_CNN, cache=str(folder), verbose=0).fit(images)
    clear_feature_cache()
    fe.transform(images)
    (npy,) = folder.glob("*.npy")
    for entry in folder.iterdir():
        entry.unlink()
    npy.mkdir()  # a folder where the features go
    clear_feature_cache()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = fe.transform(images)
    messages = [str(w.message) for w in caught if issubclass(w.category, FeatureCacheWarning)]
    assert any("IsADirectoryError" in m and "`cache`" in m for m in messages), messages
    np.testing.assert_array_equal(again, features)
    assert sorted(os.listdir(folder)) == [npy.name]  # no orphan sidecar
