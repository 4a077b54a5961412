"""Keep TensorFlow's C++ start-up log lines off the terminal (on unless you ask for them).

Importing TensorFlow 2.21 on a CPU-only machine writes lines like these to file descriptor 2,
twice, from C++, and the first device lookup adds an error about CUDA::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796135201.661986    6251 port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:1796135201.662288    6251 cudart_stub.cc:31] Could not find cuda drivers on your machine, ...
    I0000 00:00:1796135201.827375    6251 cpu_feature_guard.cc:227] This TensorFlow binary is optimized ...
    To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow ...
    E0000 00:00:1796135203.272993    6251 cuda_platform.cc:52] failed call to cuInit: ...

``TF_CPP_MIN_LOG_LEVEL`` does not reach the first ones (they are written before TensorFlow sets up
its logging), ``TF_ENABLE_ONEDNN_OPTS=0`` removes only the oneDNN line, and Python's `warnings`
and `logging` never see any of them. The only thing that hides them is pointing file descriptor
2 elsewhere while TensorFlow starts. So `install`, which ``import keras_transfer`` calls:

1. sets ``TF_CPP_MIN_LOG_LEVEL`` to ``"2"`` unless it is already set (your value wins): later
   info and warning lines of TensorFlow's C++ runtime are dropped, its errors are kept;
2. puts a finder on `sys.meta_path` that waits for the first ``import tensorflow`` (by Keras, by
   keras_transfer, or by you) and runs that import with file descriptor 2 pointed at a temporary
   file. On a Linux machine with no NVIDIA device (no ``/dev/nvidiactl``, no WSL ``/dev/dxg``) it
   also lists TensorFlow's physical devices there, so the failed ``cuInit`` is logged into the
   file too. (Where a GPU may exist, CUDA is left uninitialised until TensorFlow needs it: a
   process that initialises CUDA and then forks breaks CUDA in the child, and a failed ``cuInit``
   on a GPU machine is news.) Then file descriptor 2 is restored, also when the import raises,
   and everything captured is written back to it except TensorFlow's C++ log lines (the
   ``I0000 ... file.cc:N]`` lines, the ``absl::InitializeLog`` notice and the CPU-instructions
   continuation line). Python warnings and error messages printed during the import still
   appear, only a moment later; an exception keeps its message and traceback.

Nothing is hidden after the import, and nothing at all when TensorFlow was imported before
keras_transfer. To see the lines, set ``KERAS_TRANSFER_VERBOSE_TF=1`` before importing
keras_transfer, or pass ``--verbose-tf`` to the ``keras-transfer`` command. One blind spot: if
TensorFlow aborts the process while it is being imported (for instance on a CPU without the
instructions it was built for), its last words go to the temporary file; rerun with
``KERAS_TRANSFER_VERBOSE_TF=1`` to read them.

Example:
    >>> import keras_transfer.quiet_tf as quiet_tf
    >>> quiet_tf.strip_tf_log_lines(
    ...     b"I0000 00:00:17.5   51 port.cc:153] oneDNN custom operations are on.\\n"
    ...     b"UserWarning: kept\\n"
    ... )
    b'UserWarning: kept\\n'
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

__all__ = ["VERBOSE_ENV", "install", "is_installed", "quiet_fd2", "strip_tf_log_lines", "uninstall"]

VERBOSE_ENV = "KERAS_TRANSFER_VERBOSE_TF"
_LOG_LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
_LOG_LEVEL = "2"

# A C++ log line (absl/glog prefix: severity, MMDD, time, thread id, file:line]), absl's notice
# that precedes its initialisation, and the second line of cpu_feature_guard's two-line message.
_TF_LOG_LINE = re.compile(
    rb"[IWEF]\d{4} \d\d:\d\d:\d+(?:\.\d+)? +\d+ [\w.+-]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags"
)
_GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/dxg")

_state = {"finder": None, "set_log_level": False}


def _verbose_requested() -> bool:
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def strip_tf_log_lines(text: bytes) -> bytes:
    """``text`` without TensorFlow's C++ log lines; every other line is kept, byte for byte."""
    return b"".join(line for line in text.splitlines(keepends=True) if not _TF_LOG_LINE.match(line))


def _write_fd2(data: bytes) -> None:
    while data:
        written = os.write(2, data)
        data = data[written:]


def _flush_stderr() -> None:
    for stream in (sys.stderr, sys.__stderr__):
        with contextlib.suppress(Exception):  # None (pythonw) or closed
            stream.flush()


@contextlib.contextmanager
def quiet_fd2():
    """Point file descriptor 2 at a temporary file for the block, then write back all but TF's log lines.

    File descriptor 2 is restored however the block ends; if it cannot be redirected (closed,
    no temporary folder), the block runs unchanged.
    """
    _flush_stderr()
    try:
        capture = tempfile.TemporaryFile()
    except OSError:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        capture.close()
        yield
        return
    try:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            capture.seek(0)
            _write_fd2(strip_tf_log_lines(capture.read()))
    finally:
        os.close(saved)
        capture.close()


def _cuda_impossible() -> bool:
    return sys.platform.startswith("linux") and not any(os.path.exists(p) for p in _GPU_DEVICE_NODES)


class _QuietLoader(importlib.abc.Loader):
    """Runs the wrapped loader's ``exec_module`` inside `quiet_fd2`."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader  # as if we were never there
        with quiet_fd2():
            self.loader.exec_module(module)
            if _cuda_impossible():
                # The failed cuInit is logged here, not at the first op; a probe that fails
                # must not fail the import.
                with contextlib.suppress(Exception):
                    module.config.list_physical_devices()


class _QuietImportFinder(importlib.abc.MetaPathFinder):
    """Wraps the first import of the top-level module ``name`` in `quiet_fd2`, then steps aside."""

    def __init__(self, name: str):
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)  # one import only; the finders after us do the finding
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install(name: str = "tensorflow") -> bool:
    """Quiet the first import of ``name`` (see the module docstring); returns whether it did anything.

    Does nothing when ``KERAS_TRANSFER_VERBOSE_TF`` is set (and not ``0``), when ``name`` is
    already imported, or when it is already installed.
    """
    if _verbose_requested() or name in sys.modules or is_installed():
        return False
    if _LOG_LEVEL_ENV not in os.environ:
        os.environ[_LOG_LEVEL_ENV] = _LOG_LEVEL
        _state["set_log_level"] = True
    finder = _QuietImportFinder(name)
    sys.meta_path.insert(0, finder)
    _state["finder"] = finder
    return True


def is_installed() -> bool:
    """Whether the finder still waits for its import."""
    return _state["finder"] is not None and _state["finder"] in sys.meta_path


def uninstall() -> None:
    """Undo `install`: remove the finder and the ``TF_CPP_MIN_LOG_LEVEL`` default it set (if unchanged)."""
    finder, _state["finder"] = _state["finder"], None
    if finder is not None:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)
    if _state["set_log_level"] and os.environ.get(_LOG_LEVEL_ENV) == _LOG_LEVEL:
        del os.environ[_LOG_LEVEL_ENV]
        _state["set_log_level"] = False
