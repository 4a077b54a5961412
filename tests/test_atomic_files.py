"""Atomic writes: a failed write leaves the previous file whole and no temporary file behind."""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from keras_transfer.atomic_files import atomic_write, save_model


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
    from keras_transfer.atomic_files import save_model

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


def test_save_model_onto_a_symlink_writes_through_it(tmp_path):
    import keras

    target = tmp_path / "real" / "model.keras"
    target.parent.mkdir()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    save_model(model, target)
    link = tmp_path / "latest.keras"
    link.symlink_to(target)
    bigger = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5)])
    assert save_model(bigger, link) == str(link)
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link stays a link
    assert keras.saving.load_model(target).output_shape == (None, 5)  # its target was updated


def test_atomic_write_does_not_take_a_symlinks_target_mode(tmp_path):
    """A planted link to a world-writable file must not make the new file world-writable."""
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("theirs")
    os.chmod(elsewhere, 0o666)
    entry = tmp_path / "cache" / "key.json"
    entry.parent.mkdir()
    entry.symlink_to(elsewhere)
    with atomic_write(entry) as tmp, open(tmp, "w") as f:
        f.write("ours")
    assert not entry.is_symlink() and entry.read_text() == "ours"
    assert stat.S_IMODE(os.stat(entry).st_mode) & 0o022 == 0  # not group/world-writable
    assert elsewhere.read_text() == "theirs"  # the link's target was not written


_KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from keras_transfer.atomic_files import atomic_write

    with atomic_write(sys.argv[1]) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"half a model")
        print(tmp, flush=True)
        if sys.argv[2] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        sys.stdin.readline()  # a live writer: waits until told to go on
    """
)


@pytest.mark.skipif(os.name != "posix", reason="stale temporaries are recognised by process id on POSIX")
def test_stale_temporaries_of_killed_writers_are_removed_by_the_next_save(tmp_path):
    import keras

    target = str(tmp_path / "model.keras")
    stale = []
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", _KILLED_WRITER, target, "kill"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == -9, run.stderr[-2000:]
        stale.append(run.stdout.strip())
        # each new writer removed the file the previous killed one left; its own stays behind
        assert _files(tmp_path) == [os.path.basename(stale[-1])]
    live = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, target, "wait"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        in_progress = live.stdout.readline().strip()
        save_model(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), target)
        assert not any(os.path.exists(p) for p in stale)  # the killed writers' files are gone
        assert os.path.exists(in_progress)  # a running writer's file is left alone
        live.communicate("go\n", timeout=120)
    finally:
        live.kill()
    assert _files(tmp_path) == ["model.keras"]


def test_io_utils_is_a_deprecated_alias_of_atomic_files():
    from keras_transfer import atomic_files, io_utils

    for name in io_utils.MOVED:
        with pytest.warns(DeprecationWarning, match=rf"keras_transfer\.atomic_files\.{name}"):
            assert getattr(io_utils, name) is getattr(atomic_files, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        io_utils.nothing  # noqa: B018
