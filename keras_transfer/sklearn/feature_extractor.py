"""`FeatureExtractor`: a frozen pretrained backbone as a scikit-learn transformer."""

from __future__ import annotations

import hashlib
import os
import weakref

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from keras_transfer._validation import (
    ArgumentTypeError,
    check_bool,
    check_choice,
    check_input_shape,
    check_int,
    check_pixel_range,
)
from keras_transfer.backbones import DEFAULT_BACKBONE, check_backbone_name
from keras_transfer.image_io import to_images
from keras_transfer.sklearn import _cache, _text
from keras_transfer.sklearn._input_features import forget_input_features
from keras_transfer.sklearn._input_features import is_table as input_is_table
from keras_transfer.sklearn._streamed import image_batches, is_streaming_input, streamed
from keras_transfer.streaming import source_fingerprint

_PROGRESS_MIN_BATCHES = 10  # verbose=1 shows a progress bar only for runs longer than this
_PREDICT_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FOLDED_PREDICT_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class FeatureExtractor(TransformerMixin, BaseEstimator):
    """Images in, pooled features of a frozen (pretrained) backbone out.

    Accepts numpy image batches ``(N, H, W)`` / ``(N, H, W, C)`` (C = 1 or 3) of any integer or
    float dtype holding raw 0-255 pixels, 2-D rows of flattened square images (``(N, S*S)``
    grayscale or ``(N, 3*S*S)`` RGB, e.g. ``load_digits().data`` scaled to 0-255), a list of
    image arrays or file paths, a folder (every image below it, sorted by path) or a
    `tf.data.Dataset` of images (or of ``(images, labels)``). The backbone resizes images to its
    input size and turns grayscale into RGB.

    With a text backbone (``backbone="text:minilm"`` or ``"text:<keras-hub preset or Hugging Face
    folder>"``, see `keras_transfer.backbones.load_text_backbone`), ``X`` is a list, 1-D array or
    pandas Series of strings and the features are the encoder's pooled token features
    (``pooling="avg"``: the mean over real tokens; ``"cls"``: the first token), cached by the
    texts' content; ``input_shape`` and ``resize`` do not apply. Needs the ``text`` extra
    (``pip install "keras-transfer[text]"``) and the TensorFlow backend.

    Files and datasets are streamed (`keras_transfer.streaming.image_dataset`: decoded, resized
    and batched in `tf.data`, a few batches ahead), so memory does not grow with their number;
    the features equal those of the same images loaded into an array. A file that cannot be
    decoded raises a ValueError naming it (no row is skipped: row ``i`` is file ``i``).

    With pretrained ``weights`` the transformer is usable without ``fit`` (like
    ``sklearn.frozen.FrozenEstimator``); ``fit`` is accepted and only validates and builds.
    Inference runs through one compiled function per backbone (``tf.function`` on TensorFlow,
    ``jax.jit`` on JAX), built once and reused, never ``model.predict`` per call.

    Caching: built backbones and extracted features live in a process-wide, size-bounded cache
    keyed by the backbone configuration, a fingerprint of its weights and a hash of the pixels (for
    a folder or a list of files: of every file's path, size and modification time, so a file
    rewritten in place with the same size and mtime is not noticed; datasets are not cached), so
    ``GridSearchCV``/``cross_val_score`` (which clone estimators) extract each image set once.
    See `keras_transfer.sklearn.feature_cache_info`. With ``weights=None`` the randomly
    initialised backbone is drawn once per process and configuration, so it is a fixed function.

    Args:
        backbone: a name from `keras_transfer.backbones.list_backbones()`; the default is
            ``keras_transfer.backbones.DEFAULT_BACKBONE``.
        weights: ``"imagenet"``, ``None`` (random init) or a weights-file path.
        input_shape: ``(height, width, 3)`` the backbone runs at; ``None`` for its native size.
        pooling: ``"avg"`` or ``"max"`` (text backbones: ``"avg"`` or ``"cls"``).
        batch_size: images per compiled call.
        cache: ``True`` (process memory cache), ``False``/``None`` (no cache), or a directory
            path (memory cache plus a disk cache in that directory, shared by processes). Disk
            entries are a ``.npy`` file of features (never pickled) and a ``.json`` sidecar with
            its sha256, shape and dtype; every read verifies them, and an entry that fails
            (truncated, corrupted, wrong shape, no sidecar) is recomputed and rewritten with a
            warning naming the file. Writes are atomic (write a temporary file, then rename).
        resize: resize images of mixed sizes (lists of arrays or files) to the backbone's input
            size while loading; if False they must share one size.
        verbose: 0 silent; 1 a progress bar for runs over 10 batches; 2 always a progress bar.

    Attributes:
        backbone_: the `keras_transfer.backbones.Backbone` (frozen; shared across clones).
        weights_fingerprint_: content hash of the backbone weights (part of the cache key).
        n_features_in_: features per row, only after ``fit`` on 2-D input.

    Raises:
        ValueError: bad arguments (raised in ``fit``), bad images (wrong rank or channels,
            NaN pixels, mixed sizes without ``resize=True``) in ``fit``/``transform``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.sklearn import FeatureExtractor
        >>> fe = FeatureExtractor(backbone="mobilenet_v3_small", weights=None,
        ...                       input_shape=(32, 32, 3), verbose=0)
        >>> fe.fit_transform(np.zeros((4, 28, 28), "uint8")).shape
        (4, 576)
    """

    def __init__(
        self,
        *,
        backbone: str = DEFAULT_BACKBONE,
        weights: str | os.PathLike | None = "imagenet",
        input_shape: tuple[int, int, int] | None = None,
        pooling: str = "avg",
        batch_size: int = 32,
        cache=True,
        resize: bool = False,
        verbose: int = 1,
    ):
        self.backbone = backbone
        self.weights = weights
        self.input_shape = input_shape
        self.pooling = pooling
        self.batch_size = batch_size
        self.cache = cache
        self.resize = resize
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Validate the arguments and ``X``, build (or reuse) the frozen backbone.

        Args:
            X: images (see the class docstring).
            y: ignored.

        Returns:
            self.
        """
        self._build_backbone()
        if _text.is_text_backbone(self.backbone):
            self._texts(X)
        elif is_streaming_input(X):  # checked (files listed; headers read without resize), not loaded
            forget_input_features(self)
            streamed(X, self._stream_size(), self.batch_size)
        else:
            self._to_images(X, reset=True)
        return self

    def _stream_size(self):
        return tuple(self.backbone_.input_size) if self.resize else None

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "backbone_") or self.weights is not None  # pretrained: frozen, no fit

    def _check_params(self) -> None:
        text = _text.is_text_backbone(self.backbone)
        check_choice(self.pooling, tuple(_text.TEXT_POOLING) if text else ("avg", "max"), "pooling")
        if text:
            _text.check_text_params(self)
        check_int(self.batch_size, "batch_size", min_value=1)
        check_int(self.verbose, "verbose", min_value=0, max_value=2)
        check_bool(self.resize, "resize")
        self._cache_dir()  # validates `cache`

    def _cache_dir(self) -> str | None:
        cache = self.cache
        if cache is None or isinstance(cache, (bool, np.bool_)):
            return None
        if isinstance(cache, (str, os.PathLike)):
            return os.fspath(cache)
        hint = ""
        if hasattr(cache, "location"):  # e.g. joblib.Memory: its pickle-based store is not used
            hint = f" Pass the directory itself, e.g. cache={getattr(cache, 'location', None)!r}."
        raise ValueError(
            f"`cache` must be True, False, None or a directory path; received cache={cache!r}.{hint}"
        )

    def _build_backbone(self) -> None:
        self._check_params()
        from keras_transfer.backbones import get_backbone

        if _text.is_text_backbone(self.backbone):
            from keras_transfer.backbones import load_text_backbone

            def build_text():
                pooling = _text.TEXT_POOLING[self.pooling]
                return load_text_backbone(self.backbone, pooling=pooling, trainable=False)

            key = ("text", self.backbone, self.pooling)
            self.backbone_, self.weights_fingerprint_ = _cache.get_backbone_cached(key, build_text)
            return
        shape = check_input_shape(self.input_shape)
        check_backbone_name(self.backbone)  # an unknown name is an error naming `backbone`
        weights = self.weights
        if isinstance(weights, os.PathLike):
            weights = os.fspath(weights)
        if weights is not None and not isinstance(weights, str):  # get_backbone names `weights`
            get_backbone(self.backbone, input_shape=shape, weights=weights)
        key = (self.backbone, weights, shape, self.pooling)
        if weights not in (None, "imagenet") and os.path.exists(weights):
            key += (os.path.getmtime(weights),)  # a rewritten weights file is a new backbone

        def build():
            return get_backbone(
                self.backbone, input_shape=shape, weights=weights, pooling=self.pooling, trainable=False
            )

        self.backbone_, self.weights_fingerprint_ = _cache.get_backbone_cached(key, build)

    def _ensure_backbone(self) -> None:
        check_is_fitted(self)
        if not hasattr(self, "backbone_"):
            self._build_backbone()

    # -- transforming --------------------------------------------------------------------------
    def _texts(self, X) -> np.ndarray:
        """``X`` checked as a batch of texts (a text backbone keeps no ``n_features_in_``)."""
        forget_input_features(self)
        return _text.check_texts(X, "X", self.backbone)

    def _to_images(self, X, reset: bool) -> np.ndarray:
        is_table = input_is_table(X)
        if is_table:  # rows of flattened images: sklearn's own validation and feature bookkeeping
            if np.asarray(X).dtype.kind in "US" and not hasattr(X, "tocsr"):  # objects: sklearn checks
                raise ArgumentTypeError(
                    f"`X` must hold pixels (numbers), image paths or a folder; received an array of dtype={np.asarray(X).dtype}."
                )
            X = validate_data(self, X, reset=reset, dtype="numeric")
        elif reset:
            forget_input_features(self)
        images = to_images(X, resize=bool(self.resize), size=tuple(self.backbone_.input_size))
        check_pixel_range(images, "X")
        return images

    def transform(self, X) -> np.ndarray:
        """Pooled backbone features of ``X``, from the cache when these pixels were seen before.

        Args:
            X: images (see the class docstring).

        Returns:
            float32 array ``(n_images, backbone_.num_features)``.
        """
        self._ensure_backbone()
        if _text.is_text_backbone(self.backbone):
            texts = self._texts(X)
            if self.cache is False or self.cache is None:
                return self._extract(texts)
            return self._cached(_text.texts_hash(texts), len(texts), lambda: self._extract(texts))
        if is_streaming_input(X):
            return self._transform_streamed(X)
        images = self._to_images(X, reset=False)
        if self.cache is False or self.cache is None:  # no key to compute: hashing costs a pass
            return self._extract(images)
        return self._cached(_cache.array_hash(images), len(images), lambda: self._extract(images))

    def _transform_streamed(self, X) -> np.ndarray:
        """`transform` of a folder, a list of files or a dataset, batch by batch."""
        dataset, paths = streamed(X, self._stream_size(), self.batch_size)

        def extract():
            return self._extract_batches(image_batches(dataset), None if paths is None else len(paths))

        if paths is None:  # a dataset: no key for its content, not cached
            return extract()
        content = f"files resize={bool(self.resize)}{source_fingerprint(paths)}"  # keys as before
        return self._cached(content, len(paths), extract)

    def _cached(self, content: str, n: int, extract) -> np.ndarray:
        """The features of ``n`` images whose content is keyed by ``content`` (a pixel hash or a
        file fingerprint): from the cache, or ``extract()`` stored in it. The one place the cache
        key (backbone configuration, weights fingerprint, content) is computed."""
        if self.cache is False or self.cache is None:
            return extract()
        digest = hashlib.blake2b(digest_size=20)
        for part in (
            self.backbone,
            self.pooling,
            str(tuple(self.backbone_.input_size)),
            self.weights_fingerprint_,
            content,
        ):
            digest.update(str(part).encode())
        key, directory = digest.hexdigest(), self._cache_dir()
        cached = _cache.get_features(key, directory, (n, self.backbone_.num_features))
        if cached is not None:
            return np.array(cached)  # a writable copy: the cached array stays intact
        features = extract()
        _cache.put_features(key, features.copy(), directory)
        return features

    def _extract(self, images: np.ndarray) -> np.ndarray:
        """Run the compiled backbone over ``images`` batch by batch (the uncached path)."""
        bs = int(self.batch_size)
        dtype = object if images.dtype == object else np.float32  # texts stay strings
        batches = (np.asarray(images[i : i + bs], dtype=dtype) for i in range(0, len(images), bs))
        return self._extract_batches(batches, len(images))

    def _extract_batches(self, batches, n: int | None) -> np.ndarray:
        """The compiled backbone over float32 ``batches`` (``n`` images in all, or None if unknown)."""
        import keras

        # The backbone is frozen and never trained here: BatchNorm folded into the convolutions
        # (keras_transfer.backbones.fold_batch_norm) runs the same features 1.2-2.6x faster with
        # TensorFlow on CPU (on JAX: within noise at 32 and 96 px, 1.14x at 160 px).
        fn = predict_function(self.backbone_, fold_batch_norm=True)
        bs = int(self.batch_size)
        steps = None if n is None else -(-n // bs)
        bar = None
        if self.verbose == 2 or (self.verbose == 1 and (steps is None or steps > _PROGRESS_MIN_BATCHES)):
            bar = keras.utils.Progbar(n, unit_name="image")
        # jax.jit compiles once per shape: pad a short last batch instead of compiling again.
        pad_last = steps != 1 and keras.backend.backend() == "jax" and not _text.takes_text(self.backbone_)
        parts, done = [], 0
        out = None if n is None else np.empty((n, self.backbone_.num_features), dtype=np.float32)
        for batch in batches:
            size = len(batch)
            if not self.backbone_.built and batch.dtype != object:
                # the folded copy runs instead of backbone_: build backbone_ symbolically (no
                # compute) so that it stays usable as a built model (count_params, summary, ...)
                self.backbone_(keras.KerasTensor((None, *batch.shape[1:]), dtype="float32"))
            if pad_last and size < bs:
                batch = np.concatenate([batch, np.zeros((bs - size, *batch.shape[1:]), np.float32)])
            features = np.asarray(fn(batch))[:size]
            if out is None:
                parts.append(features)
            else:
                out[done : done + size] = features
            done += size
            if bar is not None:
                bar.update(done)
        if out is None:
            out = np.concatenate(parts) if parts else np.empty((0, self.backbone_.num_features))
        return out.astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names ``"<backbone>_<i>"`` (so ``set_output(transform="pandas")`` works)."""
        self._ensure_backbone()
        if (
            input_features is not None
            and hasattr(self, "n_features_in_")
            and len(input_features) != self.n_features_in_
        ):
            raise ValueError(
                f"`input_features` must have n_features_in_={self.n_features_in_} names; "
                f"received {len(input_features)}."
            )
        return np.asarray([f"{self.backbone}_{i}" for i in range(self.backbone_.num_features)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float32"]  # features are float32 whatever comes in
        return tags


def predict_function(model, fold_batch_norm: bool = False):
    """The compiled inference function of ``model``, built once per model and cached.

    With ``fold_batch_norm=True`` and a `keras_transfer.backbones.Backbone` over a functional base,
    the function runs a copy whose BatchNorm layers are folded into the convolutions before them
    (`keras_transfer.backbones.fold_batch_norm`): the same features to float32 round-off, with the
    weights read once, so only for a model whose weights no longer change (a frozen extractor).

    ``tf.function`` on TensorFlow (one graph per image shape with a free batch dimension, so a
    short last batch does not retrace), ``jax.jit`` over ``stateless_call`` on JAX, the plain
    call elsewhere. XLA is not used: on CPU, XLA-compiled inference of depthwise-convolution
    backbones (EfficientNet-Lite, MobileNet) measured 3 to 9 times slower than the plain graph on a
    2-core machine.
    """
    cache = _FOLDED_PREDICT_FNS if fold_batch_norm else _PREDICT_FNS
    fn = cache.get(model)
    if fn is not None:
        return fn
    if _text.takes_text(model):  # strings in: a string input signature (TensorFlow only)
        return _text.text_predict_function(model)
    import keras

    ref = weakref.ref(model)  # the cache must not keep the model alive
    if fold_batch_norm:
        folded = _folded_copy(model)
        if folded is not model:  # held by the function: it does not refer to ``model``
            ref = lambda: folded  # noqa: E731
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        traced = {}  # one graph per image shape, batch dimension left free

        def fn(x):
            shape = tuple(x.shape[1:])
            if shape not in traced:
                spec = tf.TensorSpec((None, *shape), tf.float32)
                traced[shape] = tf.function(lambda t: ref()(t, training=False), input_signature=[spec])
            return traced[shape](x)
    elif backend == "jax":
        import jax

        jitted = jax.jit(lambda tv, ntv, x: ref().stateless_call(tv, ntv, x, training=False)[0])

        def fn(x):
            m = ref()
            if not m.built:  # stateless_call needs the variables to exist
                m(x[:1], training=False)
            return jitted(
                [v.value for v in m.trainable_variables], [v.value for v in m.non_trainable_variables], x
            )
    else:

        def fn(x):
            return keras.ops.convert_to_numpy(ref()(x, training=False))

    cache[model] = fn
    return fn


def _folded_copy(model):
    """``model`` with BatchNorm folded into its base's convolutions, or ``model`` itself when it
    is not a plain `Backbone` over a functional (or Sequential) base."""
    import keras

    from keras_transfer.backbones import Backbone, fold_batch_norm

    base = getattr(model, "base", None)
    if type(model) is not Backbone or not (
        isinstance(base, keras.Sequential) or type(base).__name__ == "Functional"
    ):
        return model
    return Backbone(
        fold_batch_norm(base),
        preprocessing=model.preprocessing,
        pooling=model.pooling,
        name=f"{model.name}_folded",
    )
