"""Test helpers: simulate 'offline' without touching the network."""

import urllib.error


def go_offline(monkeypatch, keras_home):
    """Make keras.utils.get_file fail like a machine without network, with an empty cache."""
    from keras.src.utils import file_utils

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(file_utils, "urlretrieve", refuse)
    monkeypatch.setattr(file_utils.config, "keras_home", lambda: str(keras_home))
