"""The pieces of `TransferClassifier.fine_tune`'s default recipe (private to keras_transfer.models).

The recipe, chosen on validation splits of Fashion-MNIST's training labels (benchmarks/README.md,
"Fine-tuning recipe"): hold out a stratified validation split when every class has enough
labelled images; fit the head as the linear probe on cached frozen features; fine-tune at 3e-4
for `MAX_EPOCHS` with a one-epoch linear warm-up and cosine decay to zero (the whole schedule:
the validation loss rose and fell by up to 0.2 from epoch to epoch, so stopping early on it with
patience 2 would have stopped a run at epoch 6 and kept epoch 4, validation accuracy 0.825,
where the whole schedule ended at 0.840); then keep the best on the
validation split of the head-only model, the fine-tuned model and the fine-tuned backbone under a
probe refitted on its features.
"""

from __future__ import annotations

import time

import keras
import numpy as np

AUTO = "auto"
MIN_PER_CLASS_FOR_SPLIT = 5  # below this a 20% split leaves < 1 validation image per class
VALIDATION_FRACTION = 0.2
MAX_HEAD_EPOCHS = 100  # on cached features an epoch costs milliseconds; early stopping ends it
HEAD_EPOCHS_WITHOUT_VALIDATION = 30
HEAD_EPOCHS_ON_IMAGES = 3  # "auto" when the head cannot train on cached features
MAX_EPOCHS = 10  # fine-tuning epochs with a validation split: the whole warm-up + cosine schedule
LEARNING_RATE = 3e-4  # the peak rate: validation 0.860 against 0.815 at 1e-4 (same 12-epoch schedule)
CONSTANT_LEARNING_RATE = 1e-4  # "auto" with an int `epochs`: the constant rate of the two-phase recipe
EPOCHS_WITHOUT_VALIDATION = 3


def check_epochs(value, argument: str):
    """``"auto"`` or an int >= 0."""
    from keras_transfer._validation import check_int

    if isinstance(value, str) and value == AUTO:
        return value
    return check_int(value, argument, min_value=0)


def check_learning_rate(value, epochs, text: bool = False):
    """The fine-tuning phase's rate: ``"auto"`` is `LEARNING_RATE` with ``epochs="auto"`` (the
    recipe's warm-up + cosine schedule) for an image backbone, `CONSTANT_LEARNING_RATE` with an
    int ``epochs`` or a text backbone (``text``: transformers are usually fine-tuned at 1e-5 to
    1e-4; 3e-4 was chosen on convolutional image backbones only)."""
    from keras_transfer._validation import check_float

    if isinstance(value, str) and value == AUTO:
        return LEARNING_RATE if epochs == AUTO and not text else CONSTANT_LEARNING_RATE
    return check_float(value, "learning_rate", min_value=0, min_inclusive=False)


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)``: ``fraction`` of each class (at least one) held out.

    Not the estimators' split (``held_out_split`` in ``keras_transfer/sklearn/_splits.py``, which
    holds out a total count with scikit-learn's ``train_test_split(random_state=...)``): this one
    holds out a share of every class and is seeded from numpy's global generator, as ``fit`` is.
    Sharing either draw would change which rows are held out for a given seed (and the recorded
    fine-tuning results), so the two stay apart.
    """
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        held.extend(rng.choice(idx, max(1, int(round(fraction * len(idx)))), replace=False))
    mask = np.zeros(len(y), bool)
    mask[np.asarray(held, dtype=int)] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def auto_validation_split(x, y, fit_kwargs: dict, validation_split) -> tuple:
    """``(x, y, fit_kwargs, validation)`` with a stratified split taken out of in-memory data.

    ``validation_split="auto"`` holds out `VALIDATION_FRACTION` when every class has at least
    `MIN_PER_CLASS_FOR_SPLIT` images; a float holds out that fraction; 0 or ``None`` none.
    Nothing is split when ``fit_kwargs`` already holds ``validation_data`` or the data are not
    numpy arrays (folders, datasets). ``sample_weight`` is split with the images.
    """
    validation = fit_kwargs.get("validation_data")
    if validation is not None or not isinstance(x, np.ndarray) or y is None:
        return x, y, fit_kwargs, validation
    y = np.asarray(y)
    if isinstance(validation_split, str) and validation_split == AUTO:
        counts = np.unique(y, return_counts=True)[1]
        fraction = VALIDATION_FRACTION if counts.min() >= MIN_PER_CLASS_FOR_SPLIT else 0.0
    else:
        from keras_transfer._validation import check_float

        fraction = check_float(
            validation_split or 0.0, "validation_split", min_value=0.0, max_value=1.0, max_inclusive=False
        )
    if fraction == 0.0:
        return x, y, fit_kwargs, None
    train, held = stratified_split(y, fraction, np.random.randint(2**31))
    validation = (x[held], y[held])
    fit_kwargs = dict(fit_kwargs, validation_data=validation)
    if fit_kwargs.get("sample_weight") is not None:
        weights = np.asarray(fit_kwargs["sample_weight"])
        validation = (x[held], y[held], weights[held])
        fit_kwargs.update(sample_weight=weights[train], validation_data=validation)
    return x[train], y[train], fit_kwargs, validation


def features_of(backbone, x, batch_size: int = 64) -> np.ndarray:
    """Pooled features of ``x`` in inference mode, in equal batches (the short one padded)."""
    n, pad = len(x), -len(x) % batch_size
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    return backbone.predict(x, batch_size=batch_size, verbose=0)[:n]


def train_head_on_features(model, x, y, validation, *, epochs, learning_rate, optimizer, fit_kwargs):
    """Train ``model``'s Dropout + Dense + softmax head on cached frozen features of ``x``.

    The backbone is frozen in the head phase, so its features do not change: computing them once
    makes each head epoch cost milliseconds instead of a pass through the backbone. ``epochs``
    ``"auto"`` with a plain Dense classifier: the linear probe itself (`logistic_regression_head`);
    with another classifier layer, up to `MAX_HEAD_EPOCHS` with early stopping on the validation
    loss (best weights restored), `HEAD_EPOCHS_WITHOUT_VALIDATION` without a validation split.
    """
    inputs = keras.Input((model.backbone.num_features,))
    head = keras.Model(inputs, model.softmax(model.classifier(model.dropout_layer(inputs))))
    head.compile(
        optimizer=optimizer(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    kwargs = {
        k: v for k, v in fit_kwargs.items() if k in ("batch_size", "sample_weight", "class_weight", "verbose")
    }
    callbacks = []
    if validation is not None:
        validation = (features_of(model.backbone, validation[0]), *validation[1:])
        kwargs["validation_data"] = validation
    if epochs == AUTO and type(model.classifier) is keras.layers.Dense:
        return logistic_regression_head(model, features_of(model.backbone, x), y, validation, fit_kwargs)
    if epochs == AUTO:
        epochs = MAX_HEAD_EPOCHS if validation is not None else HEAD_EPOCHS_WITHOUT_VALIDATION
        if validation is not None:
            callbacks.append(keras.callbacks.EarlyStopping("val_loss", patience=5, restore_best_weights=True))
    if kwargs.get("verbose") == 1:
        kwargs["verbose"] = 2  # hundreds of tiny epochs: one line each, not a bar each
    return head.fit(features_of(model.backbone, x), y, epochs=epochs, callbacks=callbacks, **kwargs)


def logistic_regression_head(model, features, y, validation, fit_kwargs):
    """Set the Dense head to scikit-learn's ``LogisticRegression(C=1)`` fitted on ``features``.

    A softmax over ``W x + b`` is multinomial logistic regression, so the head becomes exactly the
    linear probe (the usual baseline: frozen features + logistic regression), fitted to
    convergence by L-BFGS rather than by a guessed number of Adam epochs, which stopped below it
    (benchmarks/README.md, "Figures quoted from docstrings").
    Returns a one-epoch ``History`` with the loss and accuracy (and their validation values).
    """
    from sklearn.linear_model import LogisticRegression

    weights = fit_kwargs.get("sample_weight")
    class_weight = fit_kwargs.get("class_weight")
    probe = LogisticRegression(C=1.0, max_iter=2000, class_weight=class_weight)
    probe.fit(features, y, sample_weight=weights)
    num_classes, num_features = model.num_classes, features.shape[1]
    kernel = np.zeros((num_features, num_classes), "float32")
    bias = np.full(num_classes, -30.0, "float32")  # classes absent from y: never predicted
    coef, intercept = probe.coef_, probe.intercept_
    if coef.shape[0] == 1:  # binary: sigmoid(w x + b) = softmax([-(w x + b) / 2, (w x + b) / 2])
        coef, intercept = (
            np.concatenate([-coef / 2, coef / 2]),
            np.concatenate([-intercept / 2, intercept / 2]),
        )
    kernel[:, probe.classes_] = coef.T
    bias[probe.classes_] = intercept
    model.classifier.set_weights([kernel, bias])
    history = keras.callbacks.History()
    history.epoch = [0]
    history.history = {
        "accuracy": [float(probe.score(features, y))],
        "loss": [float(_log_loss(model, features, y))],
    }
    if validation is not None:
        history.history["val_accuracy"] = [float(probe.score(validation[0], validation[1]))]
        history.history["val_loss"] = [float(_log_loss(model, validation[0], validation[1]))]
    return history


def _log_loss(model, features, y) -> float:
    logits = features @ keras.ops.convert_to_numpy(model.classifier.kernel) + keras.ops.convert_to_numpy(
        model.classifier.bias
    )
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-np.mean(log_probs[np.arange(len(y)), np.asarray(y, int)]))


def warmup_cosine(learning_rate: float, steps_per_epoch: int, epochs: int):
    """Linear warm-up over the first epoch to ``learning_rate``, then cosine decay to 0."""
    steps_per_epoch = max(1, int(steps_per_epoch))
    decay = max(1, steps_per_epoch * (epochs - 1))
    # from learning_rate / (steps + 1), not 0: a one-step epoch must still take a step
    return keras.optimizers.schedules.CosineDecay(
        float(learning_rate) / (steps_per_epoch + 1),
        decay_steps=decay,
        warmup_target=float(learning_rate),
        warmup_steps=steps_per_epoch,
    )


class TimeBudget(keras.callbacks.Callback):
    """Stop training before an epoch that would end after ``seconds`` (measured from train start)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = float(seconds)

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self._epoch_start = self._start
        self.stopped = False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if now + (now - self._epoch_start) - self._start > self.seconds:
            self.model.stop_training = True
            self.stopped = True


def validation_score(model, validation) -> tuple[float, float]:
    """``(accuracy, -loss)`` of ``model`` on ``validation`` (higher is better, compared as a tuple)."""
    x, y = validation[0], validation[1]
    weights = validation[2] if len(validation) > 2 else None
    result = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    return float(result["accuracy"]), -float(result["loss"])


def best_epochs(history) -> int:
    """Epochs up to the lowest validation loss (all of them without a validation loss)."""
    losses = history.history.get("val_loss")
    return int(np.argmin(losses)) + 1 if losses else len(history.epoch)


def refit_on_all(
    model, x, y, fit_kwargs, *, policy, head_epochs, epochs, planned_epochs, head_optimizer, optimizer
):
    """Train ``model`` (already reset to its pretrained weights) on every labelled image: the head
    on cached features for ``head_epochs``, then ``epochs`` of fine-tuning under ``policy`` with
    ``optimizer(steps_per_epoch)`` (the same per-epoch learning-rate curve as the split run, which
    planned ``planned_epochs``). Returns ``[(phase, history), ...]``."""
    from keras_transfer.policies import FreezeAll

    histories = []
    model.set_policy(FreezeAll(bn="frozen"))
    h = train_head_on_features(
        model,
        x,
        y,
        None,
        epochs=head_epochs,
        learning_rate=None,
        optimizer=lambda _: head_optimizer,
        fit_kwargs=fit_kwargs,
    )
    histories.append(("head_refit", h))
    model.set_policy(policy)
    if epochs:
        batch_size = fit_kwargs.get("batch_size") or 32
        model.compile(optimizer=optimizer(-(-len(x) // batch_size)))
        h = model.fit(x, y, epochs=epochs, **fit_kwargs)
        histories.append(("fine_tune_refit", h))
    return histories
