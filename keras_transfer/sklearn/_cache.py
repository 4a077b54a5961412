"""Process-wide caches behind `FeatureExtractor`: built backbones and extracted features.

``GridSearchCV`` and ``cross_val_score`` clone estimators, so an instance-level cache dies with
each clone. Both caches here live in the module (one per process), are keyed by content
(backbone configuration + a fingerprint of its weights, and a hash of the pixels) and are bounded.
An optional disk directory (``cache="<dir>"``) adds a persistent layer whose format and checks are
described in `keras_transfer.sklearn._disk_cache` (every entry carries a sha256 and its shape, and is
verified on each read; nothing is ever unpickled).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from keras_transfer._validation import check_int
from keras_transfer.sklearn import _disk_cache

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


def get_features(
    key: str, directory: str | None = None, expected_shape: tuple[int, ...] | None = None
) -> np.ndarray | None:
    """Features stored under ``key`` in memory, else verified from ``directory``; ``None`` if absent.

    A disk entry that fails verification (see `_disk_cache.read`) is a miss and warns.
    """
    with _LOCK:
        if key in _FEATURES:
            _FEATURES.move_to_end(key)
            _STATS["hits"] += 1
            return _FEATURES[key]
    if directory is not None:
        features = _disk_cache.read(directory, key, expected_shape)
        if features is not None:
            features.setflags(write=False)
            with _LOCK:
                _STATS["disk_hits"] += 1
            _put_memory(key, features)
            return features
    with _LOCK:
        _STATS["misses"] += 1
    return None


def put_features(key: str, features: np.ndarray, directory: str | None = None) -> None:
    """Store ``features`` under ``key`` in memory (LRU, bounded) and optionally on disk (atomically)."""
    features.setflags(write=False)
    _put_memory(key, features)
    if directory is not None:
        _disk_cache.write(directory, key, features)


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
    max_bytes = check_int(max_bytes, "max_bytes", min_value=0)
    with _LOCK:
        _LIMITS["max_bytes"] = max_bytes
        while _FEATURES and sum(f.nbytes for f in _FEATURES.values()) > max_bytes:
            _FEATURES.popitem(last=False)
