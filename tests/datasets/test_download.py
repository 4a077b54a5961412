import hashlib
import os

import pytest

from keras_transfer.datasets import download_with_checksum
from tests.datasets._helpers import go_offline

PAYLOAD = b"real bytes of a public file\n"
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
URL = "https://example.invalid/data/file.bin"


def test_cached_file_with_right_hash_needs_no_network(tmp_path, monkeypatch):
    go_offline(monkeypatch, tmp_path / "home")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "file.bin").write_bytes(PAYLOAD)
    path = download_with_checksum(URL, "file.bin", DIGEST, cache_dir=str(tmp_path))
    assert path == str(tmp_path / "datasets" / "file.bin")


def test_offline_error_says_where_to_put_the_file(tmp_path, monkeypatch):
    go_offline(monkeypatch, tmp_path)
    target = os.path.join(str(tmp_path), "sets", "file.bin")
    with pytest.raises(ConnectionError, match="You may be offline") as info:
        download_with_checksum(URL, "file.bin", DIGEST, cache_subdir="sets", cache_dir=str(tmp_path))
    assert target in str(info.value) and DIGEST in str(info.value) and URL in str(info.value)
    assert isinstance(info.value.__cause__, Exception)


def test_cached_file_with_wrong_hash_is_not_trusted(tmp_path, monkeypatch):
    go_offline(monkeypatch, tmp_path)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "file.bin").write_bytes(b"tampered")
    with pytest.raises(ConnectionError):
        download_with_checksum(URL, "file.bin", DIGEST, cache_dir=str(tmp_path))


def _fake_server(monkeypatch, payload):
    from keras.src.utils import file_utils

    calls = []

    def fake_urlretrieve(url, filename, reporthook=None):
        calls.append(url)
        with open(filename, "wb") as f:
            f.write(payload)

    monkeypatch.setattr(file_utils, "urlretrieve", fake_urlretrieve)
    return calls


def test_download_is_verified(tmp_path, monkeypatch):
    calls = _fake_server(monkeypatch, PAYLOAD)
    path = download_with_checksum(URL, "file.bin", DIGEST.upper(), cache_dir=str(tmp_path))
    assert open(path, "rb").read() == PAYLOAD and calls == [URL]
    download_with_checksum(URL, "file.bin", DIGEST, cache_dir=str(tmp_path))
    assert calls == [URL]  # second call served from the cache


def test_corrupted_download_is_rejected(tmp_path, monkeypatch):
    _fake_server(monkeypatch, b"something else")
    with pytest.raises(ValueError, match="sha256 is not"):
        download_with_checksum(URL, "file.bin", DIGEST, cache_dir=str(tmp_path))


def test_download_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="`sha256` must be 64 hexadecimal"):
        download_with_checksum(URL, "file.bin", "abc", cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="`fname` must be a plain file name"):
        download_with_checksum(URL, "sub/file.bin", DIGEST, cache_dir=str(tmp_path))
