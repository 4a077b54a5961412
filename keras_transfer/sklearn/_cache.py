"""Process-wide caches behind `FeatureExtractor`: built backbones and extracted features.

``GridSearchCV`` and ``cross_val_score`` clone estimators, so an instance-level cache dies with
each clone. Both caches here live in the module (one per process), are keyed by content
(backbone configuration + a fingerprint of its weights, and a hash of the pixels) and are bounded.
An optional disk directory (``cache=<dir>`` or a ``joblib.Memory``) adds a persistent layer.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict

import numpy as np

_LOCK = threading.Lock()
_FEATURES: OrderedDict[str, np.ndarray] = OrderedDict()
_BACKBONES: OrderedDict[tuple, object] = OrderedDict()
_STATS = {"hits": 0, "misses": 0, "disk_hits": 0}
_LIMITS = {"max_bytes": 512 * 2**20, "max_backbones": 4}


def array_hash(arr: np.ndarray) -> str:
    """A content hash of an array: dtype, shape and bytes (blake2b, 128 bits)."""
    h = hashlib.blake2b(digest_size=16)
    arr = np.ascontiguousarray(arr)
    h.update(str(arr.dtype).encode())
    h.update(str(arr.shape).encode())
    h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def weights_fingerprint(model) -> str:
    """A content hash of every weight of a Keras model (names, shapes and values)."""
    h = hashlib.blake2b(digest_size=16)
    for w in model.weights:
        h.update(w.path.encode())
        h.update(array_hash(np.asarray(w.numpy())).encode())
    return h.hexdigest()


def get_features(key: str, directory: str | None = None) -> np.ndarray | None:
    """Features stored under ``key`` in memory, else in ``directory``; ``None`` if absent."""
    with _LOCK:
        if key in _FEATURES:
            _FEATURES.move_to_end(key)
            _STATS["hits"] += 1
            return _FEATURES[key]
    if directory is not None:
        path = os.path.join(directory, f"{key}.npy")
        if os.path.exists(path):
            features = np.load(path)
            with _LOCK:
                _STATS["disk_hits"] += 1
            _put_memory(key, features)
            return features
    with _LOCK:
        _STATS["misses"] += 1
    return None


def put_features(key: str, features: np.ndarray, directory: str | None = None) -> None:
    """Store ``features`` under ``key`` in memory (LRU, bounded) and optionally on disk."""
    features.setflags(write=False)
    _put_memory(key, features)
    if directory is not None:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".npy", dir=directory)  # write, then rename: no torn files
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, features)
        os.replace(tmp, os.path.join(directory, f"{key}.npy"))


def _put_memory(key: str, features: np.ndarray) -> None:
    with _LOCK:
        if features.nbytes > _LIMITS["max_bytes"]:
            return
        _FEATURES[key] = features
        _FEATURES.move_to_end(key)
        while sum(f.nbytes for f in _FEATURES.values()) > _LIMITS["max_bytes"]:
            _FEATURES.popitem(last=False)


def get_backbone_cached(key: tuple, build) -> tuple[object, str]:
    """``(backbone, weights fingerprint)`` for configuration ``key``, built once per process."""
    with _LOCK:
        if key in _BACKBONES:
            _BACKBONES.move_to_end(key)
            return _BACKBONES[key]
    backbone = build()
    entry = (backbone, weights_fingerprint(backbone))
    with _LOCK:
        _BACKBONES[key] = entry
        while len(_BACKBONES) > _LIMITS["max_backbones"]:
            _BACKBONES.popitem(last=False)
    return entry


def feature_cache_info() -> dict:
    """Counters of the process-wide feature cache.

    Returns:
        ``{"hits", "disk_hits", "misses", "entries", "bytes", "max_bytes"}``: memory hits, hits
        served from a disk directory, misses (features computed), stored arrays, their size.

    Example:
        >>> from keras_transfer.sklearn import feature_cache_info
        >>> sorted(feature_cache_info())
        ['bytes', 'disk_hits', 'entries', 'hits', 'max_bytes', 'misses']
    """
    with _LOCK:
        return {
            **_STATS,
            "entries": len(_FEATURES),
            "bytes": int(sum(f.nbytes for f in _FEATURES.values())),
            "max_bytes": _LIMITS["max_bytes"],
        }


def clear_feature_cache(backbones: bool = False) -> None:
    """Empty the process-wide feature cache (and the built-backbone cache if ``backbones``).

    Example:
        >>> from keras_transfer.sklearn import clear_feature_cache, feature_cache_info
        >>> clear_feature_cache()
        >>> feature_cache_info()["entries"]
        0
    """
    with _LOCK:
        _FEATURES.clear()
        _STATS.update(hits=0, misses=0, disk_hits=0)
        if backbones:
            _BACKBONES.clear()


def set_feature_cache_size(max_bytes: int) -> None:
    """Bound the process-wide feature cache to ``max_bytes`` (0 disables it); evicts LRU entries.

    Example:
        >>> from keras_transfer.sklearn import set_feature_cache_size
        >>> set_feature_cache_size(256 * 2**20)
    """
    if not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"`max_bytes` must be an int >= 0; received max_bytes={max_bytes!r}.")
    with _LOCK:
        _LIMITS["max_bytes"] = max_bytes
        while _FEATURES and sum(f.nbytes for f in _FEATURES.values()) > max_bytes:
            _FEATURES.popitem(last=False)
