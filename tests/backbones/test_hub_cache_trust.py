"""The TF-Hub cache is per-user by default, and a planted module in a cache others can write to
(or that another user owns) is refused before its graph can run."""

import hashlib
import os

import numpy as np
import pytest

from keras_transfer.backbones import get_backbone
from keras_transfer.backbones.hub_handles import HUB_HANDLES
from keras_transfer.backbones.hub_loading import (
    UntrustedHubCacheError,
    default_hub_cache_dir,
    hub_cache_dir,
)

URL = HUB_HANDLES["mobilenet_v2_100_224"][0]


def _save_planted_module(path, marker):
    """A SavedModel whose ``__call__`` writes ``marker`` when its graph runs (the planted code)."""
    import tensorflow as tf

    class Planted(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(tf.ones((3, 4)), name="kernel")

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        def __call__(self, x):
            tf.io.write_file(marker, "planted code ran")
            return tf.matmul(tf.reduce_mean(x, [1, 2]), self.kernel)

    module = Planted()
    tf.saved_model.save(module, path)


def _plant(cache, marker, cache_mode=0o777):
    os.makedirs(cache, exist_ok=True)
    entry = os.path.join(cache, hashlib.sha1(URL.encode("utf8")).hexdigest())
    _save_planted_module(entry, marker)
    os.chmod(cache, cache_mode)
    return entry


def _build_and_call():
    bb = get_backbone("hub:mobilenet_v2_100_224", input_shape=(8, 8, 3), weights=None)
    return np.asarray(bb(np.zeros((1, 8, 8, 3), "uint8")))


def test_hub_default_cache_is_per_user_not_tmp(monkeypatch, tmp_path):
    import tempfile

    monkeypatch.delenv("TFHUB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert (
        hub_cache_dir()
        == default_hub_cache_dir()
        == str(tmp_path / "xdg" / "keras_transfer" / "tfhub_modules")
    )
    assert not hub_cache_dir().startswith(os.path.join(tempfile.gettempdir(), "tfhub_modules"))


def test_hub_planted_module_in_world_writable_cache_is_not_run(monkeypatch, tmp_path):
    cache, marker = str(tmp_path / "shared_tmp" / "tfhub_modules"), str(tmp_path / "ran.txt")
    _plant(cache, marker, cache_mode=0o777)  # as anyone could in <tmp>/tfhub_modules
    monkeypatch.setenv("TFHUB_CACHE_DIR", cache)
    with pytest.raises(UntrustedHubCacheError, match="writable by other users") as info:
        _build_and_call()
    assert cache in str(info.value)
    assert not os.path.exists(marker), "the planted graph ran"
    # the same module in a cache only its owner can write to is trusted, and its graph does run
    os.chmod(cache, 0o755)
    _build_and_call()
    assert open(marker).read() == "planted code ran"


def test_hub_world_writable_file_inside_a_cached_entry_is_refused(monkeypatch, tmp_path):
    cache, marker = str(tmp_path / "cache"), str(tmp_path / "ran.txt")
    entry = _plant(cache, marker, cache_mode=0o700)
    os.chmod(os.path.join(entry, "saved_model.pb"), 0o666)
    monkeypatch.setenv("TFHUB_CACHE_DIR", cache)
    with pytest.raises(UntrustedHubCacheError, match="saved_model.pb"):
        _build_and_call()
    assert not os.path.exists(marker)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="chown needs root")
def test_hub_cache_entry_owned_by_another_user_is_refused(monkeypatch, tmp_path):
    cache, marker = str(tmp_path / "cache"), str(tmp_path / "ran.txt")
    entry = _plant(cache, marker, cache_mode=0o755)
    os.chown(entry, 65534, 65534)  # nobody
    monkeypatch.setenv("TFHUB_CACHE_DIR", cache)
    with pytest.raises(UntrustedHubCacheError, match="owned by .*65534"):
        _build_and_call()
    assert not os.path.exists(marker)
