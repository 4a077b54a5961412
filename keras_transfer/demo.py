"""The main job end to end, offline: what `keras-transfer demo` runs.

Shipped Fashion-MNIST, the embedded pretrained EfficientNet-Lite0, and at each label budget:
1. feature extraction: frozen backbone + a scikit-learn logistic-regression head;
2. fine-tuning: `TransferClassifier.fine_tune` with its default recipe (``epochs="auto"``: the
   logistic-regression probe as the head, then every block under `UnfreezeAll` with BatchNorm
   kept in inference mode, 10 epochs of warm-up + cosine learning rate (peak 3e-4) on 80% of the
   labels; then the best on the stratified 20% validation split is kept among the head-only
   model, the fine-tuned model and the fine-tuned backbone under a logistic-regression probe
   refitted on its features (on every label once chosen); benchmarks/README.md, "Fine-tuning
   recipe"). The table says which model was kept, so a fine-tuned row that equals the probe is
   read as such;
3. at the label budgets in ``scratch_labels`` (default: the smallest), the same architecture
   trained from scratch (random weights, everything trainable) to convergence: Adam 1e-3 until
   the accuracy on a stratified 20% validation split of the labels stops improving
   (`train_from_scratch`), BatchNorm statistics re-estimated on the training images before
   evaluation. To convergence at 1,000 labels it costs about as much as the rest of the demo
   together (250-285 s of 488-564 s in the 3-seed runs, benchmarks/README.md), so the default
   demo (about 4-5 minutes on 2 cores) trains it at 100 labels only and
   ``keras-transfer demo --scratch-labels 100 1000`` gives the full table.

Each label budget starts from the same random seed, so the rows of a budget do not depend on which
other budgets ran or had a from-scratch row.

Every file is written atomically (`keras_transfer.atomic_files.atomic_write`) into a staging folder,
and the set is moved into ``output`` at the end, after a second check for results that appeared
meanwhile (`keras_transfer.atomic_files.staged_files`): an interrupted run leaves the previous
complete files or none, never a torn file or a partial set.
"""

from __future__ import annotations

import os
import sys
import time

from keras_transfer import demo_support
from keras_transfer.atomic_files import save_model, staged_files

# From scratch with the fine-tuning recipe: trained to convergence, i.e. until the accuracy on a
# stratified 20% validation split of the labels has not improved for SCRATCH_PATIENCE epochs (best
# weights restored), at most SCRATCH_MAX_EPOCHS. A short run would flatter the transfer gain. Not
# the validation loss: from scratch it stopped falling at epoch 2 of 1,000 labels (0.98, then
# 0.98-1.07) while the accuracy rose from 0.67 to 0.70 and on, so stopping on it kept a model 9
# points below a plain 6-epoch run.
SCRATCH_MAX_EPOCHS = 30
SCRATCH_PATIENCE = 5
# Before each validation pass of training from scratch, BatchNorm's moving statistics are
# re-estimated on this many batches of 64 training images: Keras' moving averages (momentum 0.99)
# trail the weights by ~100 steps, several epochs here, and validated with them a model that
# already fits its training images scored chance (val_loss rising), so early stopping ended the
# 100-label run at epoch 6.
SCRATCH_RECALIBRATION_BATCHES = 4
# Below this many images in some class no validation split is held out (as in the fine-tuning
# recipe) and the scratch model trains this many epochs on every label instead.
SCRATCH_MIN_PER_CLASS_FOR_SPLIT = 5
SCRATCH_EPOCHS_WITHOUT_VALIDATION = 6
RESULT_FILES = ("results.csv", "results.png", "fine_tuning_history.png", "fine_tuned.keras")


def progress_verbosity(verbose: int, stream=None) -> int:
    """The ``verbose`` to give Keras so that progress written to a file or a pipe stays plain text.

    Keras' progress bar (``verbose=1``) always draws with ANSI colour codes, backspaces and carriage
    returns (it takes every POSIX system for a terminal), which a log file keeps as escape
    sequences. When ``stream`` (default ``sys.stdout``) is not a terminal, this returns 2, Keras'
    one-plain-line-per-epoch mode, instead; in a Jupyter kernel, which renders the bar, 1 stays 1.

    Example:
        >>> import io
        >>> from keras_transfer.demo import progress_verbosity
        >>> progress_verbosity(1, io.StringIO()), progress_verbosity(0, io.StringIO())
        (2, 0)
    """
    stream = sys.stdout if stream is None else stream
    if verbose != 1 or "ipykernel" in sys.modules:
        return verbose
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        interactive = False
    return 1 if interactive else 2


def run_demo(
    output: str = "demo_output",
    labels: list[int] = (100, 1000),
    test_size: int = 1000,
    image_size: int = 96,
    epochs: int | str = "auto",
    unfreeze: int | None = None,
    scratch_epochs: int | str | None = None,
    scratch_labels: list[int] | None = None,
    backbone: str | None = None,
    seed: int = 0,
    overwrite: bool = False,
    verbose: int = 1,
) -> list[dict]:
    """Run the demo and return its table as a list of rows ``{labels, method, accuracy, seconds}``.

    Args:
        output: folder for results.csv, results.png, fine_tuning_history.png, fine_tuned.keras.
        labels: labelled training-set sizes (balanced over the 10 classes).
        test_size: number of test images (balanced).
        image_size: side the 28x28 images are resized to inside the backbone.
        epochs: ``"auto"`` (default): `TransferClassifier.fine_tune`'s recipe (probe head, 10
            fine-tuning epochs of warm-up + cosine, keep-better guard on a validation split);
            an int: that many epochs of each phase (head on images, then fine-tuning), no
            split, constant learning rates (the demo before the recipe).
        unfreeze: ``None`` (default): every block group trains (`UnfreezeAll`); an int: the top
            ``unfreeze`` block groups (`UnfreezeTop`).
        scratch_epochs: epochs of training from scratch (``None``: ``2 * epochs`` with an int
            ``epochs``, the same number of passes as the two fine-tuning phases; with
            ``"auto"``, ``"auto"``: to convergence, see `train_from_scratch`).
        scratch_labels: the label budgets (values of ``labels``) that also get the from-scratch
            row; ``None`` (default): the smallest budget only; ``[]``: none.
        backbone: registry name (default `keras_transfer.backbones.DEFAULT_BACKBONE`); it needs
            shipped or cached ``"imagenet"`` weights.
        seed: seed of the data subsets and of the weights' initialisation.
        overwrite: replace results already in ``output`` (otherwise `FileExistsError`).
        verbose: 0 silent, 1 progress bars (one line per epoch when stdout is not a terminal,
            see `progress_verbosity`), 2 one line per epoch.

    Returns:
        One row per (label budget, method); ``seconds`` is that method's wall time, test-set
        inference included.

    Example:
        >>> from keras_transfer.demo import run_demo
        >>> rows = run_demo("/tmp/kt_demo_doc", labels=[20], test_size=30, image_size=32, epochs=1,
        ...                 overwrite=True, verbose=0)  # doctest: +SKIP
    """
    import keras
    from sklearn.linear_model import LogisticRegression

    from keras_transfer.backbones import DEFAULT_BACKBONE, get_backbone
    from keras_transfer.datasets import load_fashion_mnist
    from keras_transfer.models import TransferClassifier
    from keras_transfer.plots import plot_accuracy_vs_labels, plot_history
    from keras_transfer.policies import UnfreezeAll, UnfreezeTop

    backbone = DEFAULT_BACKBONE if backbone is None else backbone
    scratch_labels = _check_scratch_labels(scratch_labels, labels)
    demo_support.check_output_folder(output, overwrite, RESULT_FILES)
    keras.utils.set_random_seed(seed)
    num_classes = 10
    x_test, y_test = load_fashion_mnist(
        "test", source="subset", num_per_class=max(1, test_size // num_classes), seed=seed
    )
    shape = (image_size, image_size, 3)
    say = print if verbose else (lambda *a, **k: None)
    progress = progress_verbosity(verbose)
    rows, histories, fine_tuned = [], {}, None
    if scratch_epochs is None:
        scratch_epochs = "auto" if epochs == "auto" else 2 * epochs
    policy = UnfreezeAll() if unfreeze is None else UnfreezeTop(unfreeze)
    tuned_name = f"fine-tuned ({type(policy).__name__}" + ("" if unfreeze is None else f"({unfreeze})") + ")"
    x_test4 = x_test[..., None]
    frozen = get_backbone(backbone, input_shape=shape, weights="imagenet", trainable=False)
    clock = time.perf_counter()
    f_test = demo_support.predict_in_equal_batches(frozen, x_test4, progress)  # once, shared by every budget
    test_seconds = time.perf_counter() - clock

    def record(n, method, accuracy, start, note=""):
        rows.append(
            {
                "labels": n,
                "method": method,
                "accuracy": float(accuracy),
                "seconds": round(time.perf_counter() - start, 1),
                "note": note,
            }
        )

    for n in labels:
        x, y = load_fashion_mnist("train", source="subset", num_per_class=max(1, n // num_classes), seed=seed)
        x = x[..., None]
        keras.utils.set_random_seed(seed)  # the budget's rows do not depend on the budgets before it
        say(f"\n== {len(x)} labelled images ==")
        # 1. frozen features + scikit-learn head
        say("feature extraction + logistic regression")
        clock = time.perf_counter() - test_seconds
        f_train = demo_support.predict_in_equal_batches(frozen, x, progress)
        head = LogisticRegression(max_iter=2000, C=1.0).fit(f_train, y)
        record(len(x), "pretrained features + logistic regression", head.score(f_test, y_test), clock)
        # 2. fine-tuning with a trainability policy (fine_tune's recipe)
        say(f"fine-tuning: {tuned_name[len('fine-tuned (') : -1]}")
        clock = time.perf_counter()
        clf = TransferClassifier(
            get_backbone(backbone, input_shape=shape, weights="imagenet"),
            num_classes,
            policy=policy,
            dropout=0.2,
        )
        if epochs == "auto":  # the library's default recipe
            history = clf.fine_tune(x, y, batch_size=32, verbose=progress)
        else:  # explicit epochs: head LR 1e-2 (at 1e-3 three epochs of 4 steps leave the head at
            # 31% training accuracy at 100 labels), then a constant 1e-4, no validation split
            history = clf.fine_tune(
                x,
                y,
                head_epochs=epochs,
                epochs=epochs,
                head_learning_rate=1e-2,
                learning_rate=1e-4,
                batch_size=32,
                verbose=progress,
            )
        record(
            len(x),
            tuned_name,
            demo_support.accuracy(clf, x_test4, y_test),
            clock,
            _kept_note(clf.fine_tune_selection),
        )
        histories[len(x)], fine_tuned = history, clf
        if n not in scratch_labels:
            continue
        # 3. same architecture from scratch
        say("from scratch")
        clock = time.perf_counter()
        scratch = TransferClassifier(
            get_backbone(backbone, input_shape=shape, weights=None),
            num_classes,
            policy=UnfreezeAll(bn="train"),
            dropout=0.2,
        )
        ran = train_from_scratch(scratch, x, y, epochs=scratch_epochs, verbose=progress)
        record(
            len(x),
            "from scratch (random init)",
            demo_support.accuracy(scratch, x_test4, y_test),
            clock,
            f"early stopping on a validation split: the weights of epoch {ran}"
            if scratch_epochs == "auto"
            else "",
        )
    _write_outputs(output, rows, histories, fine_tuned, plot_accuracy_vs_labels, plot_history, overwrite)
    if verbose:
        print("\n" + format_table(rows))
    return rows


def _check_scratch_labels(scratch_labels, labels) -> set:
    """The label budgets that get a from-scratch row (a checked subset of ``labels``)."""
    labels = list(labels)
    if scratch_labels is None:
        return {min(labels)} if labels else set()
    chosen = list(scratch_labels)
    unknown = [n for n in chosen if n not in labels]
    if unknown:
        raise ValueError(
            f"`scratch_labels` must be values of `labels` {labels}; received {chosen} "
            f"({', '.join(map(str, unknown))} not among them)."
        )
    return set(chosen)


def train_from_scratch(
    model, x, y, *, epochs: int | str = "auto", batch_size: int = 32, callbacks=None, verbose: int = 0
) -> int:
    """Train ``model`` (random weights) on ``(x, y)`` with Adam 1e-3; returns the number of epochs
    behind the weights it ends with (with early stopping: the best epoch's).

    ``epochs="auto"``: to convergence. A stratified 20% of the labels is held out (scikit-learn's
    ``train_test_split``; the same share as `keras_transfer.models.TransferClassifier.fine_tune`'s
    recipe holds out, though not the same images) when every class has at least
    `SCRATCH_MIN_PER_CLASS_FOR_SPLIT` images (else `SCRATCH_EPOCHS_WITHOUT_VALIDATION` epochs on
    every label); training stops when the validation accuracy has not improved for
    `SCRATCH_PATIENCE` epochs, at most `SCRATCH_MAX_EPOCHS`, and the best epoch's weights are
    restored. Before each validation pass BatchNorm's moving statistics are re-estimated on
    `SCRATCH_RECALIBRATION_BATCHES` batches of training images, so the validation accuracy is
    that of the current weights. An int: that many epochs on every label. ``callbacks`` are Keras
    callbacks for ``fit``.

    Afterwards BatchNorm's moving statistics are re-estimated on the training images: a few
    hundred steps leave them behind the weights, and without this a scratch model can predict one
    class in inference mode.
    """
    import keras
    import numpy as np
    from sklearn.model_selection import train_test_split

    from keras_transfer.policies import recalibrate_batch_norm

    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    if epochs != "auto":
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, callbacks=callbacks, verbose=verbose)
        recalibrate_batch_norm(model, x, batch_size=64, verbose=0)
        return len(history.epoch)
    y = np.asarray(y)
    stop, callbacks, kwargs = None, list(callbacks or []), {}
    x_fit, y_fit = x, y
    if np.unique(y, return_counts=True)[1].min() >= SCRATCH_MIN_PER_CLASS_FOR_SPLIT:
        x_fit, x_val, y_fit, y_val = train_test_split(
            x, y, test_size=0.2, stratify=y, random_state=np.random.randint(2**31)
        )
        kwargs["validation_data"] = (x_val, y_val)
        stop = keras.callbacks.EarlyStopping(
            "val_accuracy", patience=SCRATCH_PATIENCE, restore_best_weights=True
        )
        callbacks = [_recalibrate_before_validation(x_fit), *callbacks, stop]
    history = model.fit(
        x_fit,
        y_fit,
        epochs=SCRATCH_MAX_EPOCHS if stop is not None else SCRATCH_EPOCHS_WITHOUT_VALIDATION,
        batch_size=batch_size,
        callbacks=callbacks,
        verbose=verbose,
        **kwargs,
    )
    recalibrate_batch_norm(model, x_fit, batch_size=64, verbose=0)
    # EarlyStopping restores the best epoch's weights at the end of fit, stopped early or not
    return int(stop.best_epoch + 1) if stop is not None else len(history.epoch)


def _recalibrate_before_validation(images):
    """A Keras callback: BatchNorm statistics re-estimated before each validation pass on
    `SCRATCH_RECALIBRATION_BATCHES` batches of 64 of ``images``, drawn at random once."""
    import keras
    import numpy as np

    from keras_transfer.policies import recalibrate_batch_norm

    sample = images[np.random.permutation(len(images))[: 64 * SCRATCH_RECALIBRATION_BATCHES]]

    class RecalibrateBeforeValidation(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            recalibrate_batch_norm(self.model, sample, batch_size=64, verbose=0)

    return RecalibrateBeforeValidation()


def _kept_note(selection: dict | None) -> str:
    """What `fine_tune`'s keep-better guard chose, as the fine-tuned row's note."""
    if not selection:
        return ""
    names = {
        "head": "probe",
        "fine_tune": "fine-tuned",
        "fine_tune_probe": "fine-tuned + probe",
    }
    scores = ", ".join(
        f"{name} {selection[key + '_val_accuracy']:.3f}"
        for key, name in names.items()
        if key + "_val_accuracy" in selection
    )
    if selection["kept"] == "head":  # the head-only model, refitted on every label: the probe
        return f"kept the probe: fine-tuning did not beat it on the validation split ({scores})"
    return f"kept {names[selection['kept']]}, best on the validation split ({scores})"


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned text table: labels, method, accuracy, seconds (and a row's note, if any)."""
    lines = [f"{'labels':>7}  {'method':<45} {'accuracy':>8} {'seconds':>8}"]
    for r in rows:
        lines.append(f"{r['labels']:>7}  {r['method']:<45} {r['accuracy']:>8.3f} {r['seconds']:>8.1f}")
        if r.get("note"):
            lines.append(f"{'':>9}({r['note']})")
    return "\n".join(lines)


def _write_outputs(
    output, rows, histories, fine_tuned, plot_accuracy_vs_labels, plot_history, overwrite=True
) -> None:
    """Write every result file into a staging folder, then move them into ``output`` together,
    after checking again that none appeared there while the demo ran (unless ``overwrite``): a
    run killed while writing leaves no partial set of results (`keras_transfer.atomic_files.staged_files`)."""
    with staged_files(output, RESULT_FILES, overwrite=overwrite, argument="output") as stage:
        _write_files(stage, rows, histories, fine_tuned, plot_accuracy_vs_labels, plot_history)


def _write_files(output, rows, histories, fine_tuned, plot_accuracy_vs_labels, plot_history) -> None:
    import matplotlib

    matplotlib.use("Agg")
    demo_support.write_csv(os.path.join(output, "results.csv"), rows)
    curves: dict = {}
    for r in rows:
        curves.setdefault(r["method"], {})[r["labels"]] = r["accuracy"]
    figures = {"results.png": plot_accuracy_vs_labels(curves, chance=0.1)}
    if histories:
        largest = max(histories)
        fig = plot_history(histories[largest], metrics=("loss", "accuracy"))
        phases = ", ".join(dict.fromkeys(histories[largest].history.get("phase", [])))
        fig.suptitle(f"fine-tuning, {largest} labels" + (f" (phases: {phases})" if phases else ""))
        figures["fine_tuning_history.png"] = fig
    for name, fig in figures.items():
        demo_support.save_png(fig, os.path.join(output, name))
    if fine_tuned is not None:
        save_model(fine_tuned, os.path.join(output, "fine_tuned.keras"))
