"""Resolving and loading TF-Hub / SavedModel handles: the cache, the offline errors, ``hub.load``.

Handles are tfhub.dev / Kaggle URLs (cached under ``$TFHUB_CACHE_DIR``) or local SavedModel
folders. TensorFlow-only: ``tensorflow_hub`` is imported inside `load_module`, never at import.
"""

from __future__ import annotations

import hashlib
import os
import socket

_TIMEOUT_S = 30.0


class HubHandleUnavailableError(OSError):
    """A TF-Hub handle could not be resolved: not in the cache and not downloadable (offline)."""


def hub_cache_dir() -> str:
    """The folder TF-Hub caches URL handles in: ``$TFHUB_CACHE_DIR`` or ``<tmp>/tfhub_modules``.

    Example:
        >>> from keras_transfer.backbones.hub_loading import hub_cache_dir
        >>> isinstance(hub_cache_dir(), str)
        True
    """
    from tensorflow_hub import resolver  # the function hub's own resolvers call

    return resolver.tfhub_cache_dir(use_temp=True)


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


def _is_url(handle: str) -> bool:
    return handle.startswith(("http://", "https://", "gs://"))


def resolve_handle(handle: str) -> str:
    """Resolve a TF-Hub ``handle`` (URL, cached URL or local path) to a local SavedModel folder.

    A URL that is not cached is downloaded with a 30 s socket timeout; if that fails (offline),
    `HubHandleUnavailableError` names the handle, the cache folder looked in and how to pre-seed it.

    Raises:
        HubHandleUnavailableError: the handle is neither cached nor downloadable.
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
    cached = hub_cache_path(handle)
    if os.path.isdir(cached) and os.listdir(cached):
        return hub.resolve(handle)  # returns at once, no network
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
        return hub.resolve(handle)
    except Exception as exc:  # URLError, HTTPError, ValueError, tf.errors.OpError...
        raise HubHandleUnavailableError(
            f"TF-Hub `handle`={handle!r} is not in the TF-Hub cache and could not be downloaded "
            f"({type(exc).__name__}: {exc}). Looked in {cached} (= $TFHUB_CACHE_DIR/sha1(handle); "
            f"TFHUB_CACHE_DIR={os.environ.get('TFHUB_CACHE_DIR', '<unset>')}). To use it offline, "
            "download it on a connected machine (hub.resolve(handle) with the same TFHUB_CACHE_DIR) "
            f"and copy that folder, or extract the model's .tar.gz into {cached} so that it holds "
            "saved_model.pb and variables/; or pass the extracted folder's path as the handle."
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)


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
