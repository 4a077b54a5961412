"""`TextBackbone`: strings in, tokenizer fused, pooled sentence features out, named block groups."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import ArgumentTypeError, check_bool, check_choice
from keras_transfer.api_export import export
from keras_transfer.backbones.blocks import block_groups_from_pattern

TEXT_POOLING = ("mean", "cls")
TRANSFORMER_LAYER_PATTERN = r"^(transformer_layer_\d+)$"
_MASK_KEYS = ("padding_mask", "input_mask", "attention_mask")


@export
class TextBackbone(keras.Model):
    """A pretrained text encoder with its tokenizer fused: strings in, pooled features out.

    ``call``: a batch of strings ``(batch,)`` -> ``preprocessor`` (tokenizer and packer: token
    ids, padding mask, segment ids, truncated or padded to its ``sequence_length``) -> ``encoder``
    (token features ``(batch, length, num_features)``) -> pooling over the real tokens (``"mean"``:
    the average over the padding mask, sentence-transformers' pooling; ``"cls"``: the first token)
    -> optionally L2-normalised. Tokenization runs in TensorFlow ops, so text backbones need the
    TensorFlow backend.

    Block groups are the encoder's layers cut at its transformer layers: ``"stem"`` (token,
    position and segment embeddings and their LayerNorm), one group per transformer layer
    (``"transformer_layer_0"`` ... bottom to top) and ``"top"`` (layers after the last transformer
    layer; none for BERT, whose pooler is left out because pooling is ours). So every trainability policy applies unchanged:
    ``UnfreezeTop(2)`` trains the top two transformer layers, `DiscriminativeLR` gives each layer
    its own learning rate. Transformers have LayerNorm, not BatchNorm: BatchNorm policies and
    AdaBN have nothing to act on.

    Build one with `keras_transfer.backbones.load_text_backbone` (``"minilm"``, a keras-hub preset
    or a Hugging Face folder) or from your own keras-hub objects.

    Args:
        encoder: a keras-hub text backbone (e.g. ``keras_hub.models.BertBackbone``): a Keras model
            taking the preprocessor's dict and returning token features, or a dict holding them
            under ``"sequence_output"``.
        preprocessor: a Keras layer mapping strings to the encoder's input dict (e.g.
            ``keras_hub.models.BertTextClassifierPreprocessor``); its dict must hold a padding
            mask (``"padding_mask"``).
        pooling: ``"mean"`` or ``"cls"``.
        normalize: L2-normalise the pooled features (as sentence-transformers' ``Normalize``).
        block_groups: ordered ``{group: [layer names of encoder]}``; by default cut at the layers
            named ``transformer_layer_<i>``.
        source: where the weights came from (informational, kept in the config).
        frozen_layers: positions in ``encoder.layers`` to set ``trainable=False`` (so the
            trainable state that policies set survives save/load).

    Attributes:
        num_features: size of the pooled features.
        block_names: group names, bottom to top.
        sequence_length: tokens per text after packing.

    Example:
        >>> import keras_transfer
        >>> bb = keras_transfer.backbones.load_text_backbone("minilm")  # doctest: +SKIP
        >>> bb(["transfer learning", "domain adaptation"]).shape  # doctest: +SKIP
        TensorShape([2, 384])
        >>> bb.block_names[:3]  # doctest: +SKIP
        ['stem', 'transformer_layer_0', 'transformer_layer_1']
    """

    def __init__(
        self,
        encoder: keras.Model | None = None,
        preprocessor: keras.layers.Layer | None = None,
        *,
        pooling: str = "mean",
        normalize: bool = False,
        block_groups: dict[str, list[str]] | None = None,
        source: str | None = None,
        frozen_layers: list[int] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        if isinstance(preprocessor, dict):
            preprocessor = keras.saving.deserialize_keras_object(preprocessor)
        if not isinstance(encoder, keras.Model):
            raise ArgumentTypeError(
                "`encoder` must be a Keras model of token features (e.g. a keras_hub BertBackbone); "
                f"received {type(encoder).__name__}."
            )
        if not isinstance(preprocessor, keras.layers.Layer):
            raise ArgumentTypeError(
                "`preprocessor` must be a Keras layer mapping strings to the encoder's inputs (e.g. "
                f"a keras_hub TextClassifierPreprocessor); received {type(preprocessor).__name__}."
            )
        encoder = token_model(encoder)
        self.encoder = encoder
        self.preprocessor = preprocessor
        self.pooling = check_choice(pooling, TEXT_POOLING, "pooling")
        self.normalize = check_bool(normalize, "normalize")
        self.source = source
        names = [layer.name for layer in encoder.layers]
        if block_groups is None:
            block_groups = block_groups_from_pattern(names, TRANSFORMER_LAYER_PATTERN)
        unknown = [n for members in block_groups.values() for n in members if n not in set(names)]
        if unknown:
            raise ValueError(f"`block_groups` names layers that are not in the encoder: {unknown[:5]}.")
        self.block_groups = {str(g): list(m) for g, m in block_groups.items()}
        self.num_features = int(encoder.output.shape[-1])
        for index in frozen_layers or []:
            encoder.layers[int(index)].trainable = False

    @property
    def block_names(self) -> list[str]:
        return list(self.block_groups)

    @property
    def input_size(self) -> tuple:
        """``()``: texts have no image size (the scikit-learn estimators store it as ``input_size_``)."""
        return ()

    @property
    def sequence_length(self) -> int | None:
        return getattr(self.preprocessor, "sequence_length", None)

    def group_layers(self, group: str) -> list[keras.layers.Layer]:
        """The encoder layers of block group ``group`` (bottom to top)."""
        if group not in self.block_groups:
            raise ValueError(f"`group` must be one of {self.block_names}; received group={group!r}.")
        return [self.encoder.get_layer(n) for n in self.block_groups[group]]

    def symbolic_input(self) -> keras.KerasTensor:
        """A symbolic batch of strings, to build models that contain this backbone."""
        return keras.KerasTensor((None,), dtype="string")

    def tokenize(self, texts):
        """The encoder's input dict for ``texts`` (a list or array of strings)."""
        return self.preprocessor(_as_strings(texts))

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, (list, tuple, np.ndarray)):
            inputs = _as_strings(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """`keras.Model.predict`; a list or numpy array of strings is passed as a string tensor
        (Keras' data adapters refuse numpy string arrays)."""
        if isinstance(x, (list, tuple, np.ndarray)):
            import tensorflow as tf  # tokenization runs in TensorFlow ops

            x = tf.constant(_as_strings(x).astype(object))
        return super().predict(x, *args, **kwargs)

    def call(self, inputs, training=False):
        tokens = self.preprocessor(inputs)
        mask = next((tokens[k] for k in _MASK_KEYS if k in tokens), None)
        out = _token_output(self.encoder(tokens, training=training))
        if self.pooling == "cls" or mask is None:
            pooled = out[:, 0, :]
        else:
            weights = ops.expand_dims(ops.cast(mask, out.dtype), -1)
            total = ops.sum(out * weights, axis=1)
            pooled = total / ops.maximum(ops.sum(weights, axis=1), 1e-9)
        if self.normalize:
            pooled = pooled / ops.maximum(ops.norm(pooled, axis=-1, keepdims=True), 1e-12)
        return pooled

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_features)

    def compute_output_spec(self, inputs, training=False):
        return keras.KerasTensor((inputs.shape[0], self.num_features), dtype=self.compute_dtype)

    def build(self, input_shape=None):
        self.built = True

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "preprocessor": keras.saving.serialize_keras_object(self.preprocessor),
            "pooling": self.pooling,
            "normalize": self.normalize,
            "block_groups": self.block_groups,
            "source": self.source,
            "frozen_layers": [i for i, layer in enumerate(self.encoder.layers) if not layer.trainable],
        }

    def summary_groups(self) -> str:
        """One line per block group: name, number of layers, number of parameters."""
        rows = []
        for group in self.block_names:
            layers = self.group_layers(group)
            params = sum(int(np.prod(w.shape)) for layer in layers for w in layer.weights)
            rows.append(f"{group:<28} {len(layers):>5} layers {params:>12,} params")
        return "\n".join(rows)


def token_model(encoder: keras.Model) -> keras.Model:
    """``encoder`` itself, or for an encoder with a dict output, the functional model of its
    ``"sequence_output"``: only the token features are used, and a sub-model of them leaves out
    layers that feed other outputs (BERT's pooler), which would otherwise train without gradients."""
    if not isinstance(encoder.output, dict):
        return encoder
    return keras.Model(encoder.input, _token_output(encoder.output), name=f"{encoder.name}_tokens")


def _token_output(output):
    if isinstance(output, dict):
        if "sequence_output" not in output:
            raise ValueError(
                f"The encoder returns a dict without 'sequence_output' (keys {sorted(output)}); a "
                "text backbone pools token features."
            )
        return output["sequence_output"]
    return output


def _as_strings(texts):
    """A numpy array of Python strings from a list/array of str (bytes decoded as UTF-8)."""
    array = np.asarray(texts, dtype=object)
    if array.ndim != 1:
        raise ValueError(
            f"`inputs` must be a 1-D batch of strings; received an array of shape {array.shape}."
        )
    bad = [type(t).__name__ for t in array if not isinstance(t, (str, bytes, np.str_))]
    if bad:
        raise ArgumentTypeError(f"`inputs` must hold strings; received an entry of type {bad[0]}.")
    return np.asarray([t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in array])
