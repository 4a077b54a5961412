"""`plot_trainability(model)`: a bar per block group, coloured by what trains."""

from __future__ import annotations

from keras_transfer.policies.trainability_table import trainability_table


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
        >>> from keras_transfer.policies.trainability_plot import plot_trainability
        >>> bb = UnfreezeTop(2).apply(get_backbone("resnet50", input_shape=(32, 32, 3), weights=None))
        >>> fig = plot_trainability(bb)
        >>> len(fig.axes[0].patches) >= 2 * len(bb.block_names)
        True
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover
        raise ImportError("plot_trainability needs matplotlib: pip install matplotlib") from exc
    rows = trainability_table(model, policy=policy)
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(rows)), 3.5))
    else:
        fig = ax.figure
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
