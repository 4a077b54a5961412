"""Listing image files, reading their headers, and keying them for caches."""

from __future__ import annotations

import hashlib
import os

import numpy as np

from keras_transfer._validation import check_choice
from keras_transfer.image_io import is_path_input, resolve_paths


def is_dataset(x) -> bool:
    """True for a `tf.data.Dataset` (checked without importing TensorFlow)."""
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "element_spec")


def is_streaming_input(x) -> bool:
    """True for input that is streamed rather than held in memory: a folder, a list of image
    paths or a `tf.data.Dataset`."""
    return is_dataset(x) or is_path_input(x)


def file_list(source, labels, argument):
    """(paths, labels or None, class_names or None) for a folder or a list of paths."""
    paths = resolve_paths(source, argument)
    folder = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    if isinstance(labels, str):
        check_choice(labels, ("inferred",), "labels")
        if folder is None:
            raise ValueError(
                "`labels='inferred'` reads the classes from the sub-folders of a folder; received "
                f"a list of {len(paths)} paths. Pass the folder, or one label per path."
            )
        rel = [os.path.relpath(p, folder).split(os.sep) for p in paths]
        paths = [p for p, parts in zip(paths, rel) if len(parts) > 1]
        class_names = sorted({parts[0] for parts in rel if len(parts) > 1})
        if not paths:
            raise ValueError(
                f"`{argument}`={folder!r} has no class sub-folders holding images; lay the images "
                "out as folder/<class name>/<image file> for labels='inferred'."
            )
        index = {name: i for i, name in enumerate(class_names)}
        labels = np.asarray([index[os.path.relpath(p, folder).split(os.sep)[0]] for p in paths], np.int64)
        return paths, labels, class_names
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        more = f" ({len(missing)} of the {len(paths)} files are missing)" if len(missing) > 1 else ""
        raise FileNotFoundError(
            f"`{argument}` names an image file that does not exist: {missing[0]!r}{more}."
        )
    return paths, labels, None


def common_size(paths, on_error, argument):
    """Read every header (PIL decodes nothing): the one (height, width) and the readable paths."""
    from PIL import Image

    sizes, readable, bad = {}, [], []
    for p in paths:
        try:
            with Image.open(p) as img:
                sizes.setdefault((img.height, img.width), p)
            readable.append(p)
        except Exception:  # noqa: BLE001 -- any failure means "unreadable"; reported below
            bad.append(p)
    report_bad(bad, on_error, argument)
    if len(sizes) > 1:
        examples = ", ".join(f"{s} ({os.path.basename(p)})" for s, p in list(sizes.items())[:4])
        raise ValueError(
            f"`{argument}` holds images of mixed sizes {examples}; they must share one size to be "
            "batched. Pass image_size=(height, width) to resize every image."
        )
    if not sizes:
        raise ValueError(f"`{argument}` holds no readable image among {len(paths)} files.")
    return next(iter(sizes)), readable


def report_bad(bad, on_error, argument):
    if not bad:
        return
    shown = ", ".join(repr(p) for p in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    if on_error == "raise":
        raise ValueError(
            f"`{argument}` holds {len(bad)} unreadable image file(s): {shown}. Remove them, or pass "
            "on_error='skip' to skip them."
        )
    import warnings

    warnings.warn(f"Skipping {len(bad)} unreadable image file(s) in `{argument}`: {shown}.", stacklevel=3)


def check_file_labels(labels, n, argument):
    labels = np.asarray(labels)
    if labels.ndim == 0 or len(labels) != n:
        raise ValueError(
            f"`labels` must hold one label per image of `{argument}` ({n}); received "
            f"{'a scalar' if labels.ndim == 0 else len(labels)}."
        )
    return labels


def source_fingerprint(source) -> str | None:
    """A key for the files of ``source``: a hash of every file's path, size and modification
    time (nanoseconds); None for input that is not a folder or a list of paths. The files are
    those `image_dataset` reads (`keras_transfer.image_io.resolve_paths`); a single path that is
    not a folder raises a ValueError.

    Reading the file list and ``os.stat`` costs no decoding; a file rewritten in place keeps its
    key only if its size and modification time are unchanged (tools that restore mtimes, e.g.
    ``rsync -t`` of a different file of the same size, are not detected).

    Example:
        >>> from keras_transfer.streaming import source_fingerprint
        >>> source_fingerprint([__file__]) == source_fingerprint([__file__]), source_fingerprint([[0]])
        (True, None)
    """
    if not is_path_input(source):
        return None
    paths = resolve_paths(source, "source")
    digest = hashlib.blake2b(digest_size=20)
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{os.path.abspath(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def labelled_files(folder, argument: str = "X") -> tuple[list[str], list[str]]:
    """The image files of ``folder/<class>/...`` (sorted by path) and the class name of each: the
    files and labels `image_dataset` uses with ``labels="inferred"``.

    Example:
        >>> import tempfile, pathlib
        >>> from keras_transfer.streaming import labelled_files
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ["cat", "dog"]:
        ...     (root / name).mkdir()
        ...     _ = (root / name / "1.png").write_bytes(b"")
        >>> [(pathlib.Path(p).name, c) for p, c in zip(*labelled_files(root))]
        [('1.png', 'cat'), ('1.png', 'dog')]
    """
    paths, labels, class_names = file_list(folder, "inferred", argument)
    return paths, [class_names[i] for i in labels]
