"""Resolving and loading TF-Hub / SavedModel handles: the cache, the offline errors, ``hub.load``.

Handles are tfhub.dev / Kaggle URLs (cached under `hub_cache_dir`) or local SavedModel
folders. TensorFlow-only: ``tensorflow_hub`` is imported inside `load_module`, never at import.

A cached module is a graph that runs on every call, so the cache is trusted only when no other user
can write to it. ``tensorflow_hub`` itself caches in ``<tmp>/tfhub_modules`` when
``$TFHUB_CACHE_DIR`` is unset, a folder every user of the machine can write to; here the default
is a per-user folder instead, and a cache folder or cached entry that is owned by another user or
writable by the group or by others is refused (`UntrustedHubCacheError`) before anything in it is
loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import stat
import threading

_TIMEOUT_S = 30.0


class HubHandleUnavailableError(OSError):
    """A TF-Hub handle could not be resolved: not in the cache and not downloadable (offline)."""


class UntrustedHubCacheError(PermissionError):
    """A TF-Hub cache folder or entry that another user owns or can write to (its graph would run)."""


_ENV_LOCK = threading.Lock()


def default_hub_cache_dir() -> str:
    """The per-user TF-Hub cache used when ``$TFHUB_CACHE_DIR`` is unset.

    ``$XDG_CACHE_HOME/keras_transfer/tfhub_modules`` (``~/.cache/keras_transfer/tfhub_modules``
    when ``XDG_CACHE_HOME`` is unset), never the shared temporary folder ``tensorflow_hub`` falls
    back to.

    Example:
        >>> import os
        >>> from keras_transfer.backbones.hub_loading import default_hub_cache_dir
        >>> default_hub_cache_dir().endswith(os.path.join("keras_transfer", "tfhub_modules"))
        True
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keras_transfer", "tfhub_modules")


def hub_cache_dir() -> str:
    """The folder URL handles are cached in: ``$TFHUB_CACHE_DIR``, else `default_hub_cache_dir`.

    ``tensorflow_hub``'s ``--tfhub_cache_dir`` flag is honoured as ``tensorflow_hub`` does; its
    fallback to ``<tmp>/tfhub_modules`` is not (any user of the machine can write there).

    Example:
        >>> from keras_transfer.backbones.hub_loading import hub_cache_dir
        >>> isinstance(hub_cache_dir(), str)
        True
    """
    from tensorflow_hub import resolver  # the function hub's own resolvers call

    return resolver.tfhub_cache_dir(default_cache_dir=default_hub_cache_dir())


def hub_cache_path(handle: str) -> str:
    """Where TF-Hub keeps URL ``handle`` once downloaded: ``<hub_cache_dir()>/<sha1(handle)>``.

    Example:
        >>> import hashlib
        >>> from keras_transfer.backbones.hub_loading import hub_cache_dir, hub_cache_path
        >>> handle = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"
        >>> hub_cache_path(handle) == f"{hub_cache_dir()}/{hashlib.sha1(handle.encode()).hexdigest()}"
        True
    """
    return os.path.join(hub_cache_dir(), hashlib.sha1(handle.encode("utf8")).hexdigest())


def _owner_name(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _check_trusted(path: str, what: str, st: os.stat_result) -> None:
    uid = os.getuid()
    if st.st_uid != uid:
        raise UntrustedHubCacheError(
            f"The TF-Hub {what} {path!r} is owned by {_owner_name(st.st_uid)}, not by the current "
            f"user ({_owner_name(uid)}): a module cached there could hold another user's code, "
            "which would run on every call, so it is not loaded. Use a cache of your own: unset "
            f"TFHUB_CACHE_DIR (the default is {default_hub_cache_dir()}) or point it at a folder "
            "you own."
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UntrustedHubCacheError(
            f"The TF-Hub {what} {path!r} is writable by other users (mode "
            f"{stat.filemode(st.st_mode)}): anyone who can write there could plant a module whose "
            "code would run here, so it is not loaded. Remove the write permission "
            f"(`chmod go-w {path}`) if you trust its contents, or use a cache of your own: unset "
            f"TFHUB_CACHE_DIR (the default is {default_hub_cache_dir()})."
        )


def check_hub_cache(path: str, *, entry: bool = False) -> None:
    """Refuse a TF-Hub cache folder (or, with ``entry=True``, a cached module and everything in it)
    that is owned by another user or writable by the group or by others.

    A symbolic link is judged by its own owner and by what it points to. On systems without user
    ids (Windows) nothing is checked.

    Raises:
        UntrustedHubCacheError: a folder or file that another user owns or can write to.

    Example:
        >>> import os, tempfile
        >>> from keras_transfer.backbones.hub_loading import check_hub_cache
        >>> folder = tempfile.mkdtemp()  # 0700, ours
        >>> check_hub_cache(folder)
        >>> os.chmod(folder, 0o777)
        >>> check_hub_cache(folder)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        keras_transfer.backbones.hub_loading.UntrustedHubCacheError: The TF-Hub cache folder ... is writable by other users ...
    """
    if not hasattr(os, "getuid"):
        return
    what = "cache entry" if entry else "cache folder"
    link = os.lstat(path)
    if stat.S_ISLNK(link.st_mode):
        _check_trusted(path, what + " (a symbolic link)", link)
        path = os.path.realpath(path)
    _check_trusted(path, what, os.stat(path))
    if not entry:
        return
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            item = os.path.join(root, name)
            st = os.lstat(item)
            _check_trusted(item, "cache entry's file", st)
            if stat.S_ISLNK(st.st_mode):
                _check_trusted(item, "cache entry's file", os.stat(item))


@contextlib.contextmanager
def _hub_cache_env(cache: str):
    """Let ``tensorflow_hub`` download into ``cache`` (it reads ``$TFHUB_CACHE_DIR`` at resolve time)."""
    with _ENV_LOCK:
        previous = os.environ.get("TFHUB_CACHE_DIR")
        os.environ["TFHUB_CACHE_DIR"] = cache
        try:
            yield
        finally:
            if previous is None:
                del os.environ["TFHUB_CACHE_DIR"]
            else:
                os.environ["TFHUB_CACHE_DIR"] = previous


def _is_url(handle: str) -> bool:
    return handle.startswith(("http://", "https://", "gs://"))


def resolve_handle(handle: str) -> str:
    """Resolve a TF-Hub ``handle`` (URL, cached URL or local path) to a local SavedModel folder.

    A URL that is not cached is downloaded with a 30 s socket timeout; if that fails (offline),
    `HubHandleUnavailableError` names the handle, the cache folder looked in and how to pre-seed it.

    The cache folder and a cached entry are checked first (`check_hub_cache`): one owned by
    another user or writable by the group or by others is refused, not loaded.

    Raises:
        HubHandleUnavailableError: the handle is neither cached nor downloadable.
        UntrustedHubCacheError: the cache folder or the cached entry is owned by another user or
            writable by others.
        FileNotFoundError: a local path that does not exist.

    Example:
        >>> import tempfile
        >>> from keras_transfer.backbones.hub_loading import resolve_handle
        >>> folder = tempfile.mkdtemp()
        >>> resolve_handle(folder) == folder
        True
    """
    import tensorflow_hub as hub

    if not _is_url(handle):
        if not os.path.exists(handle):
            raise FileNotFoundError(
                f"`handle`={handle!r} is neither a URL (https://..., gs://...) nor an existing "
                "SavedModel folder."
            )
        return hub.resolve(handle)
    cache = hub_cache_dir()
    cached = hub_cache_path(handle)
    if os.path.lexists(cache):
        check_hub_cache(cache)
    else:
        os.makedirs(cache, mode=0o700)
    if os.path.isdir(cached) and os.listdir(cached):
        check_hub_cache(cached, entry=True)
        return cached  # what hub.resolve returns for a cached handle, without the network
    lock = cached + ".lock"
    if os.path.exists(lock):  # hub would wait up to 10 minutes for the lock holder
        raise HubHandleUnavailableError(
            f"TF-Hub `handle`={handle!r} is not in the cache {cached} and the download lock {lock} "
            "exists: another process is downloading it, or a crashed download left the lock behind. "
            "Wait for the other download, or delete the lock file and retry."
        )
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_TIMEOUT_S)  # fail fast instead of hanging on a black-holed network
    try:
        with _hub_cache_env(cache):
            path = hub.resolve(handle)
    except Exception as exc:  # URLError, HTTPError, ValueError, tf.errors.OpError...
        raise HubHandleUnavailableError(
            f"TF-Hub `handle`={handle!r} is not in the TF-Hub cache and could not be downloaded "
            f"({type(exc).__name__}: {exc}). Looked in {cached} (= $TFHUB_CACHE_DIR/sha1(handle), "
            f"{default_hub_cache_dir()} when it is unset; "
            f"TFHUB_CACHE_DIR={os.environ.get('TFHUB_CACHE_DIR', '<unset>')}). To use it offline, "
            "download it on a connected machine (hub.resolve(handle) with the same TFHUB_CACHE_DIR) "
            f"and copy that folder, or extract the model's .tar.gz into {cached} so that it holds "
            "saved_model.pb and variables/; or pass the extracted folder's path as the handle."
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)
    _drop_group_and_other_write(path)  # downloaded by us just now: ours, whatever the umask
    check_hub_cache(path, entry=True)
    return path


def _drop_group_and_other_write(path: str) -> None:
    if not hasattr(os, "getuid") or os.path.islink(path):
        return
    for root, dirs, files in os.walk(path):
        for item in [root] + [os.path.join(root, name) for name in dirs + files]:
            st = os.lstat(item)
            if st.st_uid == os.getuid() and not stat.S_ISLNK(st.st_mode):
                os.chmod(item, stat.S_IMODE(st.st_mode) & ~(stat.S_IWGRP | stat.S_IWOTH))


def load_module(handle: str):
    """Resolve and load a TF2 SavedModel; the TF1 Hub format gets a clear error.

    Example:
        >>> import tempfile, keras
        >>> from keras_transfer.backbones.hub_loading import load_module
        >>> path = tempfile.mkdtemp()
        >>> keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).export(path, verbose=False)
        >>> len(load_module(path).variables)
        2
    """
    import tensorflow as tf

    path = resolve_handle(handle)
    if os.path.exists(os.path.join(path, "tfhub_module.pb")):
        raise ValueError(
            f"`handle`={handle!r} is in the TF1 Hub format (hub.Module, tfhub_module.pb), which "
            "cannot be fine-tuned in TF2/Keras 3. Use the TF2 SavedModel version of the model "
            "(tfhub.dev/Kaggle list one for most models: format 'TF2' / version with saved_model.pb)."
        )
    if not os.path.exists(os.path.join(path, "saved_model.pb")):
        raise ValueError(
            f"`handle`={handle!r} resolved to {path!r}, which holds no saved_model.pb; expected "
            "a TF2 SavedModel folder."
        )
    import tensorflow_hub as hub

    try:
        return hub.load(path, options=tf.saved_model.LoadOptions())
    except Exception as exc:
        if "Op type not registered" in str(exc):
            raise ImportError(
                f"The SavedModel of `handle`={handle!r} uses TensorFlow ops that are not loaded: "
                f"{str(exc).splitlines()[0]} TF-Hub text preprocessors need `pip install tensorflow-text` "
                "(then `import tensorflow_text` before building the layer)."
            ) from exc
        raise
