"""Matplotlib figures: training history with phases, accuracy vs labels, confusion matrix,
domain embeddings before/after adaptation, schedules (lambda, learning rate), trainability map.

Every function returns a `matplotlib.figure.Figure` and never calls ``plt.show()``, so it works
headless (Agg), in notebooks (the figure displays itself) and in scripts (``fig.savefig``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from keras_transfer._validation import (
    ArgumentTypeError,
    check_bool,
    check_feature_pair,
    check_float,
    check_int,
)


def _figure(ax=None, ncols: int = 1, figsize=(6.0, 4.0)):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, [ax]
    fig, axes = plt.subplots(1, ncols, figsize=(figsize[0] * ncols, figsize[1]), squeeze=False)
    return fig, list(axes[0])


def _history_dict(history) -> dict:
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping) or not data:
        raise ValueError(
            f"`history` must be a keras History or a non-empty dict of per-epoch lists; received {type(history).__name__}."
        )
    return dict(data)


def plot_history(history, metrics: Sequence[str] = ("loss", "accuracy"), phases: Sequence[str] | None = None):
    """Plot per-epoch training curves (and ``val_`` curves), one panel per metric, phases marked.

    Args:
        history: a `keras.callbacks.History` or a dict ``{metric: [value per epoch]}``.
        metrics: metrics to draw; missing ones are skipped.
        phases: one label per epoch (e.g. ``["head", "head", "fine-tune", ...]``); defaults to
            ``history["phase"]`` when present. A dashed line marks each phase change.

    Example:
        >>> from keras_transfer.plots import plot_history
        >>> fig = plot_history({"loss": [1.0, 0.6, 0.4], "phase": ["head", "head", "fine-tune"]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss']
    """
    data = _history_dict(history)
    if isinstance(metrics, str):
        metrics = [metrics]
    shown = [m for m in metrics if m in data]
    if not shown:
        raise ValueError(f"`metrics` {list(metrics)} are not in the history; it has {sorted(data)}.")
    if phases is not None:
        phases = list(phases)
        epochs = len(data[shown[0]])
        if len(phases) != epochs:
            raise ValueError(
                f"`phases` must hold one label per epoch ({epochs}); received {len(phases)} labels."
            )
    phases = list(phases if phases is not None else data.get("phase", []))
    fig, axes = _figure(ncols=len(shown))
    for ax, metric in zip(axes, shown):
        epochs = np.arange(1, len(data[metric]) + 1)
        ax.plot(epochs, _values(data[metric]), marker="o", label=f"train {metric}")
        if f"val_{metric}" in data:  # None (an epoch without validation) leaves a gap
            ax.plot(epochs, _values(data[f"val_{metric}"]), marker="s", label=f"val {metric}")
        for i in range(1, len(phases)):
            if phases[i] != phases[i - 1]:
                ax.axvline(i + 0.5, color="gray", linestyle="--")
                ax.text(i + 0.55, ax.get_ylim()[1], str(phases[i]), va="top", fontsize=8, color="gray")
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.tight_layout()
    return fig


def _values(values) -> np.ndarray:
    """Per-epoch values as floats, None as NaN (matplotlib leaves a gap there)."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def plot_accuracy_vs_labels(results: Mapping[str, Mapping[int, float]], chance: float | None = None, ax=None):
    """Accuracy against the number of labelled examples, one line per method (log x axis).

    Args:
        results: ``{method: {num_labels: accuracy}}``.
        chance: draw a dotted chance level.

    Example:
        >>> from keras_transfer.plots import plot_accuracy_vs_labels
        >>> fig = plot_accuracy_vs_labels({"pretrained": {100: 0.7, 1000: 0.8}, "scratch": {100: 0.4, 1000: 0.6}})
        >>> len(fig.axes[0].get_lines())
        2
    """
    if not isinstance(results, Mapping) or not all(isinstance(c, Mapping) for c in results.values()):
        raise ArgumentTypeError(
            "`results` must be a dict {method: {num_labels: accuracy}}; received "
            f"{type(results).__name__}."
        )
    if not results:
        raise ValueError("`results` is empty: pass {method: {num_labels: accuracy}}.")
    values = [v for curve in results.values() for v in curve.values()]
    for method, curve in results.items():
        for num, value in curve.items():
            check_float(value, f"results[{method!r}][{num!r}]", min_value=0)
            check_float(num, f"results[{method!r}] key", min_value=0, min_inclusive=False)
    if chance is not None:
        top = 1.0 if max(values, default=0.0) <= 1.0 else 100.0  # fractions, or percentages
        check_float(chance, "chance", min_value=0, max_value=top)
    fig, (ax,) = _figure(ax)
    for method, curve in results.items():
        xs = sorted(curve)
        ax.plot(xs, [curve[x] for x in xs], marker="o", label=method)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle=":", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("labelled training examples")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy vs number of labels")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    y_true, y_pred, class_names: Sequence[str] | None = None, normalize: bool = True, ax=None
):
    """Confusion matrix as an image with per-cell values (rows: true class, columns: predicted).

    Example:
        >>> from keras_transfer.plots import plot_confusion_matrix
        >>> fig = plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], class_names=["a", "b", "c"])
        >>> fig.axes[0].get_xlabel()
        'predicted'
    """
    from sklearn.metrics import confusion_matrix

    normalize = check_bool(normalize, "normalize")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            f"`y_true` and `y_pred` must be non-empty and of equal length; received {y_true.shape} and {y_pred.shape}."
        )
    labels = np.unique(np.concatenate([y_true, y_pred]))
    cm = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    names = list(class_names) if class_names is not None else [str(v) for v in labels]
    if len(names) != len(labels):
        raise ValueError(f"`class_names` has {len(names)} names but the labels hold {len(labels)} classes.")
    fig, (ax,) = _figure(ax, figsize=(0.6 * len(labels) + 3, 0.6 * len(labels) + 2))
    image = ax.imshow(cm, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for (i, j), value in np.ndenumerate(cm):
        ax.text(
            j,
            i,
            f"{value:.2f}" if normalize else f"{int(value)}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if value > cm.max() / 2 else "black",
        )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix" + (" (row-normalised)" if normalize else ""))
    fig.tight_layout()
    return fig


def plot_domain_embeddings(source, target, after: tuple | None = None, method: str = "pca", seed: int = 0):
    """Scatter source vs target features in 2-D (PCA or t-SNE); a second panel for ``after``.

        Args:
            source, target: feature arrays ``(n, d)`` before adaptation.
            after: optional ``(source_features, target_features)`` after adaptation.
            method: ``"pca"`` or ``"tsne"``.

        Example:
            >>> import numpy as np

    from keras_transfer._validation import ArgumentTypeError, check_bool, check_feature_pair, check_float, check_int
            >>> from keras_transfer.plots import plot_domain_embeddings
            >>> rng = np.random.default_rng(0)
            >>> fig = plot_domain_embeddings(rng.normal(size=(20, 5)), rng.normal(2, 1, (20, 5)))
            >>> fig.axes[0].get_title()
            'before adaptation (PCA)'
    """
    from keras_transfer.adaptation import embed_domains

    check_feature_pair(source, target, "source", "target")
    panels = [("before adaptation", source, target)]
    if after is not None:
        if not isinstance(after, (tuple, list)) or len(after) != 2:
            raise ValueError(
                "`after` must be a (source_features, target_features) pair or None; received "
                f"{type(after).__name__}{'' if not hasattr(after, '__len__') else f' of length {len(after)}'}."
            )
        check_feature_pair(after[0], after[1], "after[0]", "after[1]")
        panels.append(("after adaptation", *after))
    fig, axes = _figure(ncols=len(panels), figsize=(5.0, 4.5))
    for ax, (title, src, tgt) in zip(axes, panels):
        src_2d, tgt_2d = embed_domains(np.asarray(src), np.asarray(tgt), method=method, random_state=seed)
        ax.scatter(src_2d[:, 0], src_2d[:, 1], s=8, alpha=0.6, label="source")
        ax.scatter(tgt_2d[:, 0], tgt_2d[:, 1], s=8, alpha=0.6, label="target", marker="^")
        ax.set_title(f"{title} ({method.upper() if method == 'pca' else 't-SNE'})")
        ax.legend()
    fig.tight_layout()
    return fig


def plot_schedule(schedules: Mapping[str, Callable], total_steps: int, ax=None):
    """Plot step-indexed schedules (a reversal-weight schedule, a `LearningRateSchedule`, a function).

    Args:
        schedules: ``{label: callable(step) -> value}``.
        total_steps: steps on the x axis.

    Example:
        >>> import math
        >>> from keras_transfer.plots import plot_schedule
        >>> fig = plot_schedule({"lambda": lambda s: 2 / (1 + math.exp(-10 * s / 100)) - 1}, 100)
        >>> fig.axes[0].get_xlabel()
        'training step'
    """
    total_steps = check_int(total_steps, "total_steps", min_value=1)
    if not isinstance(schedules, Mapping) or not all(callable(fn) for fn in schedules.values()):
        raise ArgumentTypeError(
            "`schedules` must be a dict {label: callable(step) -> value}; received "
            f"{type(schedules).__name__}"
            + ("" if not isinstance(schedules, Mapping) else " with a value that is not callable")
            + "."
        )
    fig, (ax,) = _figure(ax)
    steps = np.arange(total_steps + 1)
    for label, fn in schedules.items():
        ax.plot(steps, [float(np.asarray(fn(int(s)))) for s in steps], label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("value")
    ax.set_title("Schedules")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_trainability(model, ax=None, policy=None):
    """Draw which block groups train: bar height = parameters, filled part = trainable parameters.

    Each bar is labelled with its learning-rate multiplier and BN mode. ``policy`` defaults to
    ``model.policy`` (set by `TransferClassifier`) for the multipliers.

    Returns:
        The matplotlib ``Figure``.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.policies import UnfreezeTop
        >>> from keras_transfer.plots import plot_trainability
        >>> bb = UnfreezeTop(2).apply(get_backbone("resnet50", input_shape=(32, 32, 3), weights=None))
        >>> fig = plot_trainability(bb)
        >>> len(fig.axes[0].patches) >= 2 * len(bb.block_names)
        True
    """
    from keras_transfer.policies import trainability_table  # imports Keras: only when plotting

    rows = trainability_table(model, policy=policy)
    fig, (ax,) = _figure(ax, figsize=(max(6.0, 0.35 * len(rows)), 3.5))
    xs = range(len(rows))
    total = [max(r["params"], 1) for r in rows]
    ax.bar(xs, total, color="#d0d0d0", label="frozen")
    ax.bar(xs, [r["trainable_params"] for r in rows], color="#1f77b4", label="trainable")
    for x, r, t in zip(xs, rows, total):
        lr = "" if r["lr_multiplier"] is None else f"x{r['lr_multiplier']:.2g}"
        bn = "" if r["bn"] == "-" else f" BN:{r['bn']}"
        ax.text(x, t, f"{lr}{bn}", rotation=90, ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r["group"] for r in rows], rotation=90, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("parameters")
    ax.set_title(f"Trainability of {getattr(model, 'name', '')}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
