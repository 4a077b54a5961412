"""Atomic writes: a failed write leaves the previous file whole and no temporary file behind."""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from keras_transfer.io_utils import atomic_write, save_model


def _files(folder):
    return sorted(os.listdir(folder))


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "model.weights.h5"
    with atomic_write(target) as tmp:
        assert os.path.dirname(tmp) == str(target.parent) and tmp.endswith(".weights.h5")
        assert os.path.basename(tmp).startswith(".model.weights.h5.")
        assert not target.exists()  # nothing at the target until the writer is done
        with open(tmp, "wb") as f:
            f.write(b"new")
    assert target.read_bytes() == b"new" and _files(target.parent) == ["model.weights.h5"]
    os.chmod(target, 0o640)
    with atomic_write(target) as tmp, open(tmp, "wb") as f:
        f.write(b"newer")
    assert target.read_bytes() == b"newer"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640  # the replaced file's permissions are kept


def test_atomic_write_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "data.npz"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_write(target) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"partial")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"good" and _files(tmp_path) == ["data.npz"]


def test_atomic_write_unique_temporary_per_writer(tmp_path):
    target = tmp_path / "cache.bin"
    with atomic_write(target) as first, atomic_write(target) as second:
        assert first != second
        for path, text in ((first, b"first"), (second, b"second")):
            with open(path, "wb") as f:
                f.write(text)
    assert target.read_bytes() == b"first"  # the last writer to finish wins, whole
    assert _files(tmp_path) == ["cache.bin"]


def test_atomic_write_overwrite_false_and_bad_arguments(tmp_path):
    target = tmp_path / "kept.txt"
    target.write_text("old")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        with atomic_write(target, overwrite=False):
            pass
    with pytest.raises(FileExistsError, match="created while writing"):
        with atomic_write(tmp_path / "late.txt", overwrite=False) as tmp:
            (tmp_path / "late.txt").write_text("someone else")
            with open(tmp, "w") as f:
                f.write("mine")
    assert (tmp_path / "late.txt").read_text() == "someone else"
    assert target.read_text() == "old" and _files(tmp_path) == ["kept.txt", "late.txt"]
    with pytest.raises(TypeError, match="`overwrite`"):
        with atomic_write(target, overwrite="yes"):
            pass
    with pytest.raises(ValueError, match="must end in '.keras'"):
        save_model(None, tmp_path / "model.h5")


# Runs in a child process: the file-size limit and SIGXFSZ must not touch the test runner.
_DISK_FULL = textwrap.dedent(
    """
    import os, resource, signal, sys
    import keras
    from keras_transfer.io_utils import save_model

    folder, limit = sys.argv[1], int(sys.argv[2])
    big = keras.Sequential([keras.Input((512,)), keras.layers.Dense(1024)])  # about 2 MB of weights
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        big.save(os.path.join(folder, "plain.keras"))
    except Exception as exc:
        print("plain save failed:", type(exc).__name__)
    try:
        save_model(big, os.path.join(folder, "atomic.keras"))
    except Exception as exc:
        print("atomic save failed:", type(exc).__name__)
    """
)


def test_save_model_that_runs_out_of_disk_keeps_the_old_file(tmp_path):
    import keras
    import numpy as np

    good = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    for name in ("plain.keras", "atomic.keras"):
        save_model(good, tmp_path / name)
    before = (tmp_path / "atomic.keras").read_bytes()
    plain_before = (tmp_path / "plain.keras").read_bytes()
    limit = 2 * len(before) + 64 * 1024  # room for the small model, not for the big one
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run(
        [sys.executable, "-c", _DISK_FULL, str(tmp_path), str(limit)],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "plain save failed" in run.stdout and "atomic save failed" in run.stdout, run.stdout
    # Keras' own save destroyed the good file; ours left it byte for byte, and no temporary file
    assert (tmp_path / "plain.keras").read_bytes() != plain_before
    assert (tmp_path / "atomic.keras").read_bytes() == before
    assert _files(tmp_path) == ["atomic.keras", "plain.keras"]
    loaded = keras.saving.load_model(tmp_path / "atomic.keras")
    x = np.ones((1, 4), "float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(good(x)), atol=1e-6)


def test_bad_paths_and_models_name_the_argument(tmp_path):
    import keras

    file = tmp_path / "a.keras"
    file.write_text("x")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(TypeError, match="`path` must be a file path"):
        save_model(model, 123)
    with pytest.raises(TypeError, match="`path` must be a file path"):
        with atomic_write(None):
            pass
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        save_model("model", tmp_path / "m.keras")
    with pytest.raises(IsADirectoryError, match="`path`=.* is a folder"):
        with atomic_write(tmp_path):
            pass
    with pytest.raises(OSError, match="`path`=.*cannot create its folder"):
        save_model(model, file / "m.keras")
    assert _files(tmp_path) == ["a.keras"]
