"""Download a public file once, check its sha256, and fail clearly when offline."""

from __future__ import annotations

import os
import re


def download_with_checksum(
    url: str,
    fname: str,
    sha256: str,
    cache_subdir: str = "datasets",
    cache_dir: str | None = None,
) -> str:
    """Return the local path of ``fname``, downloading it from ``url`` if it is not cached.

    A thin wrapper over ``keras.utils.get_file`` that always verifies a sha256: a cached file
    with the right hash is used without any network access; a missing or mismatching file is
    downloaded and checked. Offline, it raises a ``ConnectionError`` that says where to put the
    file by hand.

    Args:
        url: where to download from.
        fname: file name inside the cache folder (no directories).
        sha256: expected SHA-256 of the file, 64 hexadecimal characters.
        cache_subdir: sub-folder of the cache (``"datasets"`` as in Keras).
        cache_dir: cache root; ``None`` is Keras' (``$KERAS_HOME`` or ``~/.keras``).

    Returns:
        The path of the verified file, as a string.

    Raises:
        ValueError: malformed ``sha256`` or ``fname``, or a downloaded file whose hash differs.
        ConnectionError: the file is not cached and the download failed.

    Example:
        >>> import hashlib, pathlib, tempfile
        >>> from keras_transfer.datasets import download_with_checksum
        >>> cache = pathlib.Path(tempfile.mkdtemp())
        >>> (cache / "datasets").mkdir()
        >>> _ = (cache / "datasets" / "hello.txt").write_bytes(b"hello")
        >>> digest = hashlib.sha256(b"hello").hexdigest()
        >>> path = download_with_checksum("https://example.org/hello.txt", "hello.txt", digest,
        ...                               cache_dir=str(cache))  # cached: no network
        >>> pathlib.Path(path).read_bytes()
        b'hello'
    """
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(
            f"`sha256` must be 64 hexadecimal characters (compute it with `sha256sum FILE`); "
            f"received sha256={sha256!r}."
        )
    if not isinstance(fname, str) or not fname or "/" in fname or os.sep in fname:
        raise ValueError(
            f"`fname` must be a plain file name without folders; received fname={fname!r}. "
            "Use `cache_subdir` or `cache_dir` to choose the folder."
        )
    import keras

    try:
        return keras.utils.get_file(
            fname,
            origin=url,
            file_hash=sha256.lower(),
            hash_algorithm="sha256",
            cache_subdir=cache_subdir,
            cache_dir=cache_dir,
        )
    except ValueError as exc:
        if "hash" in str(exc):
            raise ValueError(
                f"Downloaded {fname!r} from {url} but its sha256 is not {sha256} (corrupted or "
                "changed upstream); the file was not kept. Check the URL and the checksum."
            ) from exc
        raise
    except Exception as exc:  # keras turns URLError/HTTPError into a bare Exception
        root = os.path.expanduser(cache_dir or os.environ.get("KERAS_HOME", "~/.keras"))
        target = os.path.join(root, cache_subdir, fname)
        raise ConnectionError(
            f"Could not download {fname!r} from {url} ({exc}). You may be offline. Download it "
            f"on a connected machine and copy it to {target} (sha256 {sha256}); it is then used "
            "without network access."
        ) from exc
