"""TensorFlow's C++ start-up lines are hidden by default, nothing else is, and the opt-outs work."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from keras_transfer import quiet_tf

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("absl::InitializeLog", "oneDNN", "cpu_feature_guard", "cuInit", "cudart_stub")
LOG_LINES = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    b"I0000 00:00:1796135201.661986    6251 port.cc:153] oneDNN custom operations are on.\n"
    b"I0000 00:00:1796135201.827375    6251 cpu_feature_guard.cc:227] This TensorFlow binary is "
    b"optimized to use available CPU instructions in performance-critical operations.\n"
    b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    b"with the appropriate compiler flags.\n"
    b"E1201 14:27:05.272993    6251 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
)


def _run(*args, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", quiet_tf.VERBOSE_ENV)}
    environ.update(KERAS_BACKEND="tensorflow", **env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def bare_import_markers():
    """What a bare ``import tensorflow`` prints here (it depends on the TensorFlow build and machine)."""
    result = _run("-c", "import tensorflow")
    assert result.returncode == 0, result.stderr[-2000:]
    return {m for m in MARKERS if m in result.stderr}


def test_strip_tf_log_lines_drops_only_tensorflow_log_lines():
    kept = b"/x.py:3: UserWarning: a Python warning\nImportError: a real message\n"
    assert quiet_tf.strip_tf_log_lines(LOG_LINES + kept) == kept
    assert quiet_tf.strip_tf_log_lines(b"no newline at the end") == b"no newline at the end"


def test_quiet_fd2_restores_stderr_and_replays_the_rest_when_the_block_raises(capfd):
    with pytest.raises(RuntimeError, match="boom"), quiet_tf.quiet_fd2():
        os.write(2, LOG_LINES + b"kept line\n")
        raise RuntimeError("boom")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "kept line\nafter\n"


def _fake_module(tmp_path, monkeypatch, body):
    name = "kt_fake_tf_" + re.sub(r"\W", "_", tmp_path.name)  # unique per test
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = quiet_tf._QuietImportFinder(name)
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    return name, finder


def test_first_import_is_quiet_but_keeps_python_warnings_and_the_real_loader(tmp_path, monkeypatch, capfd):
    name, finder = _fake_module(
        tmp_path,
        monkeypatch,
        f"""
        import os, sys
        os.write(2, {LOG_LINES!r})
        # What Python prints for a warning (pytest would catch a warnings.warn here).
        sys.__stderr__.write("/x.py:3: UserWarning: a warning that matters\\n")
        """,
    )
    module = __import__(name)
    err = capfd.readouterr().err
    assert "a warning that matters" in err
    assert not any(m in err for m in MARKERS), err
    assert finder not in sys.meta_path  # one import only
    assert type(module.__loader__).__name__ == "SourceFileLoader"
    assert module.__spec__.loader is module.__loader__
    monkeypatch.delitem(sys.modules, name)


def test_failing_import_keeps_its_message_and_stderr(tmp_path, monkeypatch, capfd):
    name, _ = _fake_module(
        tmp_path,
        monkeypatch,
        f"""
        import os
        os.write(2, {LOG_LINES!r} + b"dlopen: libfoo.so: cannot open shared object file\\n")
        raise ImportError("libfoo.so: cannot open shared object file: No such file or directory")
        """,
    )
    with pytest.raises(ImportError, match="libfoo.so: cannot open shared object file"):
        __import__(name)
    os.write(2, b"stderr works\n")
    assert capfd.readouterr().err == "dlopen: libfoo.so: cannot open shared object file\nstderr works\n"


def test_install_respects_the_opt_in_variable_and_the_users_log_level(monkeypatch):
    monkeypatch.setenv(quiet_tf.VERBOSE_ENV, "1")
    assert quiet_tf.install("kt_never_imported") is False
    monkeypatch.setenv(quiet_tf.VERBOSE_ENV, "0")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(quiet_tf, "_state", {"finder": None, "set_log_level": False})
    assert quiet_tf.install("kt_never_imported") is True and quiet_tf.is_installed()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"  # the user's value wins
    quiet_tf.uninstall()
    assert not quiet_tf.is_installed() and os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


def test_importing_the_package_then_keras_prints_no_tensorflow_log_lines():
    code = "import keras_transfer.backbones, keras; keras.ops.ones(2); print('ok')"
    result = _run("-c", code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
    assert not [m for m in MARKERS if m in result.stderr], result.stderr


def test_cli_prints_no_tensorflow_log_lines():
    result = _run("-m", "keras_transfer.cli", "backbones", "efficientnet_lite*")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [f"efficientnet_lite{i}" for i in range(5)]
    assert not [m for m in MARKERS if m in result.stderr], result.stderr


def test_cli_verbose_tf_shows_what_tensorflow_prints(bare_import_markers):
    result = _run("-m", "keras_transfer.cli", "backbones", "--verbose-tf", "vgg*")
    assert result.returncode == 0 and result.stdout.split() == ["vgg16", "vgg19"], result.stderr[-2000:]
    assert {m for m in MARKERS if m in result.stderr} == bare_import_markers
