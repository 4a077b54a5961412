"""The on-disk feature cache of `FeatureExtractor` (``cache="<directory>"``): verified on every read.

Format (version 1). Each entry is two files in the cache directory, named by the entry's key (a
hex digest of the backbone configuration, its weights and the pixels):

- ``<key>.npy``: the features, a plain ``.npy`` file (``numpy.save`` of a float32
  ``(n_images, n_features)`` array). It is read with ``allow_pickle=False``: a cache file can
  never make this package unpickle anything.
- ``<key>.json``: the sidecar, ``{"format": "keras_transfer.feature_cache", "version": 1,
  "sha256": <hex digest of the bytes of <key>.npy>, "shape": [n_images, n_features],
  "dtype": "float32"}``.

A read checks the sidecar, the sha256 of the ``.npy`` bytes, the array's dtype and shape against
the sidecar, and the shape against what the caller expects. An entry that fails any check (a
truncated or overwritten file, flipped bits, an array of the wrong shape, a ``.npy`` without its
sidecar, as written by versions before this format) is a miss: the caller recomputes the
features and rewrites the entry, and a warning names the file. A sidecar without its ``.npy`` is
a silent miss (a write in progress or an interrupted one).

Writes are atomic (`keras_transfer.atomic_files.atomic_write`: a temporary file unique to the writer
in the same folder, renamed over the target with ``os.replace``), so concurrent processes that
share a directory never read a half-written file. The sidecar is written before the features:
a reader that comes between the two writes finds the sidecar without (or with the previous)
``.npy`` and treats it as a miss, never as a valid entry. A write that fails (a read-only
folder, a full disk, a cache path under a regular file) warns, removes what it wrote, and the
caller keeps its features: a cache never costs the result.

Reads open both files without following symbolic links (``O_NOFOLLOW``; a link is a bad entry and
the rewrite replaces the link, never its target) and accept only regular files; the ``.npy`` file's
size is checked against the shape before a byte of it is read, so a huge bogus file is not read.

What the checks do and do not protect against: the sha256 detects corruption (a torn write,
flipped bits, a file replaced by accident), not tampering: whoever can write to the directory can
write a matching sidecar for any features they like, and every later ``transform`` returns them.
Nothing in an entry is ever executed or unpickled, so a hostile entry can change features, not run
code. Use a cache directory that only you (or users you trust with your results) can write to:
not a world-writable folder such as ``/tmp`` itself, but a folder of your own inside it.

Example:
    >>> import tempfile, numpy as np
    >>> from keras_transfer.sklearn import _disk_cache
    >>> folder = tempfile.mkdtemp()
    >>> _disk_cache.write(folder, "abc", np.ones((2, 3), "float32"))
    True
    >>> _disk_cache.read(folder, "abc", expected_shape=(2, 3)).sum()
    np.float32(6.0)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import stat
import warnings

import numpy as np

from keras_transfer.atomic_files import atomic_write

FORMAT = "keras_transfer.feature_cache"
VERSION = 1
DTYPE = "float32"
_MAX_SIDECAR_BYTES = 64 * 1024  # a real sidecar is ~200 bytes
_MAX_NPY_HEADER_BYTES = 65_535 + 10  # the largest .npy version 1.0 header numpy writes


class FeatureCacheWarning(UserWarning):
    """A disk cache entry failed verification and is recomputed, or could not be written."""


def _paths(directory: str, key: str) -> tuple[str, str]:
    return os.path.join(directory, f"{key}.npy"), os.path.join(directory, f"{key}.json")


def _bad(path: str, reason: str) -> None:
    warnings.warn(
        f"Feature cache entry {path!r} is unusable ({reason}); the features are recomputed and the "
        "entry rewritten.",
        FeatureCacheWarning,
        stacklevel=4,
    )


def _open_regular(path: str, max_bytes: int | None = None) -> bytes | str:
    """The bytes of ``path`` opened without following a symbolic link, or why it is unusable
    (a link, not a regular file, larger than ``max_bytes``: checked before reading)."""
    # O_NONBLOCK: opening a planted FIFO returns at once (then fails the regular-file check)
    # instead of waiting for a writer; it changes nothing for a regular file.
    flags = (
        os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        if os.path.islink(path):  # O_NOFOLLOW also refuses it; this names the reason
            return "a symbolic link (cache entries must be regular files)"
        fd = os.open(path, flags)
    except OSError as exc:
        return f"unreadable: {type(exc).__name__}: {exc.strerror or exc}"
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if max_bytes is not None and st.st_size > max_bytes:
            return f"{st.st_size} bytes, more than the {max_bytes} its shape allows"
        try:
            return fh.read()
        except OSError as exc:
            return f"unreadable: {type(exc).__name__}: {exc.strerror or exc}"


def _read_sidecar(path: str) -> dict | str:
    """The sidecar as a dict, or the reason it is unusable."""
    raw = _open_regular(path, max_bytes=_MAX_SIDECAR_BYTES)
    if isinstance(raw, str):
        return raw
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"unreadable sidecar: {type(exc).__name__}"
    ok = (
        isinstance(meta, dict)
        and meta.get("format") == FORMAT
        and meta.get("version") == VERSION
        and isinstance(meta.get("sha256"), str)
        and isinstance(meta.get("shape"), list)
        and all(isinstance(s, int) and s >= 0 for s in meta["shape"])
        and meta.get("dtype") == DTYPE
    )
    return meta if ok else f"sidecar is not a {FORMAT} version {VERSION} record"


def read(directory: str, key: str, expected_shape: tuple[int, ...] | None = None) -> np.ndarray | None:
    """The verified features stored under ``key``, or None (a miss; a bad entry also warns).

    Args:
        directory: the cache directory.
        key: the entry's key.
        expected_shape: the shape the caller needs (None: any).
    """
    data_path, meta_path = _paths(directory, key)
    has_data, has_meta = os.path.lexists(data_path), os.path.lexists(meta_path)
    if not has_meta:
        if has_data:
            _bad(data_path, f"no sidecar {os.path.basename(meta_path)!r} with its checksum")
        return None
    if not has_data:
        return None
    meta = _read_sidecar(meta_path)
    if isinstance(meta, str):
        _bad(meta_path, meta)
        return None
    if expected_shape is not None and tuple(meta["shape"]) != tuple(expected_shape):
        _bad(meta_path, f"shape {tuple(meta['shape'])} instead of the expected {tuple(expected_shape)}")
        return None
    raw = _open_regular(data_path, max_bytes=int(np.prod(meta["shape"])) * 4 + _MAX_NPY_HEADER_BYTES)
    if isinstance(raw, str):
        _bad(data_path, raw)
        return None
    if hashlib.sha256(raw).hexdigest() != meta["sha256"]:
        _bad(data_path, "sha256 differs from the sidecar: truncated, overwritten or corrupted")
        return None
    try:
        features = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError):  # numpy's own message would suggest allow_pickle=True
        _bad(data_path, "not a plain .npy array of numbers (pickled objects are never loaded)")
        return None
    if not isinstance(features, np.ndarray) or features.dtype != np.dtype(DTYPE):
        _bad(data_path, f"dtype {getattr(features, 'dtype', None)} instead of {DTYPE}")
        return None
    if list(features.shape) != meta["shape"]:
        _bad(data_path, f"shape {features.shape} differs from the sidecar's {tuple(meta['shape'])}")
        return None
    return features


def write(directory: str, key: str, features: np.ndarray) -> bool:
    """Store ``features`` (cast to float32) under ``key``: the sidecar, then the ``.npy``, each
    atomically. Returns whether it was stored; a failure (`OSError`: no permission, a full disk, a
    file where the folder should be) warns with `FeatureCacheWarning`, removes a sidecar this call
    wrote, and returns False."""
    features = np.ascontiguousarray(features, dtype=DTYPE)
    buffer = io.BytesIO()
    np.save(buffer, features, allow_pickle=False)
    raw = buffer.getvalue()
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "shape": [int(s) for s in features.shape],
        "dtype": DTYPE,
    }
    data_path, meta_path = _paths(directory, key)
    wrote_meta = False
    try:
        with atomic_write(meta_path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            json.dump(meta, fh)
        wrote_meta = True
        with atomic_write(data_path) as tmp, open(tmp, "wb") as fh:
            fh.write(raw)
    except OSError as exc:
        if wrote_meta:
            with contextlib.suppress(OSError):
                os.remove(meta_path)  # no sidecar without its features
        warnings.warn(
            f"Could not write the feature cache entry {data_path!r} in `cache`={directory!r} "
            f"({type(exc).__name__}: {exc}); the features are returned without being cached. "
            "Pass a writable directory as `cache`, or cache=True for the memory cache only.",
            FeatureCacheWarning,
            stacklevel=4,
        )
        return False
    return True
