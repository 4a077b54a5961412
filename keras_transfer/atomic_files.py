"""Atomic file writes: a reader sees the old complete file or the new complete one, never a torn one.

`keras.Model.save` writes its target in place: a save that fails midway (disk full, quota, a crash)
leaves a truncated file where a good one was, and a failed save leaves a 0-byte file at the target
even when nothing was there before. `atomic_write` gives the writer a temporary path in the same
folder (so the final rename never crosses file systems), renames it over the target with
`os.replace` only once the writer has finished, and removes it if the writer fails. Every writer
gets its own temporary name (`tempfile.mkstemp`), so concurrent writers of one target never share
a half-written file: the last one to finish wins, whole.

A writer killed mid-write (SIGKILL, power loss) cannot remove its temporary file. The name
carries the writing process's id and a tag of its host (``.<name>.<host>-<pid>.<random><suffix>``),
so the next write into that folder removes the temporary files this package's writers left on
this host whose process no longer runs (POSIX only; a live writer's file, or another host's, is
never touched).

This module imports nothing heavy: use it for any file the package writes (models, weights,
caches, figures).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator

from keras_transfer._validation import ArgumentTypeError, check_bool

__all__ = ["atomic_write", "remove_stale_temporaries", "save_model", "staged_files"]


def _suffix(name: str) -> str:
    """Everything from the first dot of the file name (``".weights.h5"``, ``".keras"``, ``".tar.gz"``)."""
    stem = name.lstrip(".")
    dot = stem.find(".")
    return stem[dot:] if dot >= 0 else ""


def _umask() -> int:
    try:  # Linux reports it without changing it
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def _check_path(path) -> str:
    """``path`` as a str; anything but a non-empty str or `os.PathLike` is an `ArgumentTypeError`."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ArgumentTypeError(
            f"`path` must be a file path (a non-empty str or os.PathLike); received path={path!r} of "
            f"type {type(path).__name__}."
        )
    path = os.fspath(path)
    if not isinstance(path, str):
        raise ArgumentTypeError(f"`path` must be a text path, not bytes; received path={path!r}.")
    return path


_HOST = hashlib.blake2b(socket.gethostname().encode("utf-8", "replace"), digest_size=3).hexdigest()
_TEMP = re.compile(rf"^\..+\.{_HOST}-(\d+)\.[a-z0-9_]{{8}}(\..*)?$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only (POSIX)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def remove_stale_temporaries(folder: str) -> list[str]:
    """Remove the temporary files `atomic_write` left in ``folder`` when its writer was killed:
    those made on this host by a process that no longer runs. Returns the removed paths.

    Called by every `atomic_write`; does nothing off POSIX (there a process id cannot be probed
    safely).

    Example:
        >>> import os, tempfile
        >>> from keras_transfer.atomic_files import remove_stale_temporaries
        >>> remove_stale_temporaries(tempfile.mkdtemp())
        []
    """
    if os.name != "posix":
        return []
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.remove(entry.path)
                removed.append(entry.path)
            elif entry.is_dir(follow_symlinks=False):  # a staging folder of `staged_files`
                shutil.rmtree(entry.path)
                removed.append(entry.path)
    return removed


@contextlib.contextmanager
def staged_files(
    folder: str | os.PathLike, names, *, overwrite: bool = False, argument: str = "folder"
) -> Iterator[str]:
    """Write a set of files into a fresh staging folder, then move them into ``folder`` together.

    Yields the staging folder (a hidden folder inside ``folder``, so the moves never cross file
    systems). When the block ends without an exception, ``folder`` is checked again for the files
    in ``names`` (unless ``overwrite``): if one appeared while the block ran, nothing is replaced,
    the new files are kept in a visible ``unsaved-*`` folder inside ``folder``, and
    `FileExistsError` names the files and that folder. Otherwise every file the
    block wrote is renamed into ``folder``. When the block raises, the staging folder is removed
    and ``folder`` is left as it was. A process killed inside the block leaves only the hidden
    staging folder, which the next write into ``folder`` removes (`remove_stale_temporaries`).

    Args:
        folder: where the files end up (created if missing).
        names: the file names the block may write (the ones checked when not ``overwrite``).
        overwrite: replace files of these names already in ``folder``.
        argument: the caller's name for ``folder``, used in the error message.

    Raises:
        FileExistsError: ``overwrite=False`` and one of ``names`` exists in ``folder`` when the
            block finishes.

    Example:
        >>> import os, tempfile
        >>> from keras_transfer.atomic_files import staged_files
        >>> out = tempfile.mkdtemp()
        >>> with staged_files(out, ["a.txt", "b.txt"]) as stage:
        ...     for name in ("a.txt", "b.txt"):
        ...         _ = open(os.path.join(stage, name), "w").write(name)
        >>> sorted(os.listdir(out))
        ['a.txt', 'b.txt']
    """
    overwrite = check_bool(overwrite, "overwrite")
    folder = os.path.abspath(_check_path(folder))
    names = list(names)
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    stage = tempfile.mkdtemp(dir=folder, prefix=f".staged.{_HOST}-{os.getpid()}.")
    try:
        yield stage
        written = sorted(os.listdir(stage))
        existing = [n for n in names if os.path.lexists(os.path.join(folder, n))]
        if existing and not overwrite:
            kept = tempfile.mkdtemp(dir=folder, prefix="unsaved-")
            for name in written:
                os.replace(os.path.join(stage, name), os.path.join(kept, name))
            raise FileExistsError(
                f"`{argument}`={folder!r} now holds {existing}, created while this run was "
                f"writing; nothing was replaced. This run's files are in {kept!r}. Pass "
                "overwrite=True to replace them, or choose another folder."
            )
        for name in written:
            os.replace(os.path.join(stage, name), os.path.join(folder, name))
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[str]:
    """Write ``path`` atomically: yields a temporary path to write; it becomes ``path`` on success.

    The temporary file lies in the folder of ``path`` (created if missing), is named
    ``.<name>.<random><suffixes of name>`` (the suffixes are kept because writers such as
    `keras.Model.save` check them: ``.keras``, ``.weights.h5``) and exists, empty, when the block
    starts. When the block ends without an exception the file is flushed to disk and renamed over
    ``path`` with `os.replace`; when it raises, the temporary file is removed, ``path`` is left as
    it was, and the exception propagates. The new file gets the permissions of the regular file it
    replaces, or those of a newly created file (0666 less the umask). A symbolic link at ``path``
    is replaced by the new file, and its target is neither written nor consulted for permissions
    (`save_model` resolves a link first, to write through it). Temporary files that killed
    writers left in the folder are removed first (`remove_stale_temporaries`).

    Args:
        path: the file to write.
        overwrite: if False and ``path`` exists (before or when the write finishes), raise
            `FileExistsError` and leave it untouched.

    Yields:
        The temporary path (a ``str``) to write to.

    Raises:
        FileExistsError: ``overwrite=False`` and ``path`` exists.

    Example:
        >>> import os, tempfile
        >>> from keras_transfer.atomic_files import atomic_write
        >>> target = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> with atomic_write(target) as tmp:
        ...     with open(tmp, "w") as f:
        ...         _ = f.write("complete")
        >>> open(target).read(), os.listdir(os.path.dirname(target))
        ('complete', ['notes.txt'])
    """
    overwrite = check_bool(overwrite, "overwrite")
    path = os.path.abspath(_check_path(path))
    folder, name = os.path.split(path)
    if not name:
        raise ValueError(f"`path` must name a file; received path={path!r}.")
    if os.path.isdir(path) and not os.path.islink(path):
        raise IsADirectoryError(f"`path`={path!r} is a folder; pass the path of a file inside it.")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"`path`={path!r} exists; pass overwrite=True to replace it.")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:  # a file where a parent folder should be, no permission
        raise type(exc)(
            f"`path`={path!r}: cannot create its folder {folder!r} ({exc.strerror or exc})."
        ) from None
    remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.{_HOST}-{os.getpid()}.", suffix=_suffix(name))
    os.close(fd)
    try:
        yield tmp
        try:
            existing = os.lstat(path)  # never follow a link: its target's mode is not ours to copy
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISREG(existing.st_mode):
            mode = existing.st_mode & 0o7777
        else:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        _fsync(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails, atomically, if path appeared meanwhile
            except FileExistsError:
                raise FileExistsError(
                    f"`path`={path!r} was created while writing; pass overwrite=True to replace it."
                ) from None
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


def save_model(model, path: str | os.PathLike, *, overwrite: bool = True, **kwargs) -> str:
    """``model.save(path)``, atomically: on failure the previous file at ``path`` is left intact.

    A symbolic link at ``path`` is written through, as ``model.save`` does: its target gets the
    new model and the link stays.

    Args:
        model: a `keras.Model`.
        path: the ``.keras`` file to write.
        overwrite: if False and ``path`` exists, raise `FileExistsError` (no interactive prompt).
        **kwargs: passed to ``model.save``.

    Returns:
        ``path`` as a string.

    Example:
        >>> import os, tempfile, keras
        >>> from keras_transfer.atomic_files import save_model
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> path = save_model(model, os.path.join(tempfile.mkdtemp(), "model.keras"))
        >>> keras.saving.load_model(path).output_shape
        (None, 2)
    """
    if not _check_path(path).endswith(".keras"):
        raise ValueError(
            f"`path` must end in '.keras' (the Keras 3 model format); received path={os.fspath(path)!r}."
        )
    if not callable(getattr(model, "save", None)):
        raise ArgumentTypeError(
            f"`model` must be a keras.Model (an object with a save method); received {type(model).__name__}."
        )
    target = os.fspath(path)
    if os.path.islink(target):
        target = os.path.realpath(target)  # write the link's target, keep the link
    with atomic_write(target, overwrite=overwrite) as tmp:
        model.save(tmp, overwrite=True, **kwargs)
    return os.fspath(path)
