"""The main job end to end, offline: what `keras-transfer demo` runs.

Shipped Fashion-MNIST, the embedded pretrained EfficientNet-Lite0, and at each label budget:
1. feature extraction: frozen backbone + a scikit-learn logistic-regression head;
2. fine-tuning: `TransferClassifier.fine_tune` (head first, then the top blocks per
   `UnfreezeTop`, BatchNorm kept in inference mode, at a lower learning rate);
3. the same architecture trained from scratch (random weights, everything trainable).
"""
from __future__ import annotations

import csv
import os
import tempfile

import numpy as np

RESULT_FILES = ("results.csv", "results.png", "fine_tuned.keras")


def _check_output(output: str, overwrite: bool) -> None:
    existing = [f for f in RESULT_FILES if os.path.exists(os.path.join(output, f))]
    if existing and not overwrite:
        raise FileExistsError(
            f"`output`={output!r} already holds {existing}; pass --overwrite (overwrite=True) to "
            "replace them, or choose another --output folder."
        )
    os.makedirs(output, exist_ok=True)


def _save_atomically(model, path: str) -> None:
    """Save to a temporary file in the same folder, then rename: a failed save never leaves a 0-byte file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".keras", dir=folder)
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def run_demo(
    output: str = "demo_output",
    labels: list[int] = (100, 1000),
    test_size: int = 1000,
    image_size: int = 96,
    epochs: int = 4,
    unfreeze: int = 2,
    backbone: str = "efficientnet_lite0",
    seed: int = 0,
    overwrite: bool = False,
    verbose: int = 1,
) -> list[dict]:
    """Run the demo and return its table as a list of rows ``{labels, method, accuracy}``.

    Example:
        >>> from keras_transfer.demo import run_demo
        >>> rows = run_demo("/tmp/kt_demo_doc", labels=[20], test_size=30, image_size=32, epochs=1,
        ...                 overwrite=True, verbose=0)  # doctest: +SKIP
    """
    import keras
    from sklearn.linear_model import LogisticRegression

    from keras_transfer.backbones import get_backbone
    from keras_transfer.datasets import load_fashion_mnist
    from keras_transfer.models import TransferClassifier
    from keras_transfer.plots import plot_accuracy_vs_labels, plot_history
    from keras_transfer.policies import UnfreezeAll, UnfreezeTop

    _check_output(output, overwrite)
    keras.utils.set_random_seed(seed)
    num_classes = 10
    x_test, y_test = load_fashion_mnist("test", source="subset", num_per_class=max(1, test_size // num_classes), seed=seed)
    shape = (image_size, image_size, 3)
    say = print if verbose else (lambda *a, **k: None)
    rows, histories, fine_tuned = [], {}, None
    for n in labels:
        x, y = load_fashion_mnist("train", source="subset", num_per_class=max(1, n // num_classes), seed=seed)
        x, x_test4 = x[..., None], x_test[..., None]
        say(f"\n== {len(x)} labelled images ==")
        # 1. frozen features + scikit-learn head
        say("feature extraction + logistic regression")
        frozen = get_backbone(backbone, input_shape=shape, weights="imagenet", trainable=False)
        f_train = frozen.predict(x, batch_size=64, verbose=verbose)
        f_test = frozen.predict(x_test4, batch_size=64, verbose=verbose)
        head = LogisticRegression(max_iter=2000, C=1.0).fit(f_train, y)
        rows.append({"labels": len(x), "method": "pretrained features + logistic regression",
                     "accuracy": float(head.score(f_test, y_test))})
        # 2. two-phase fine-tuning with a trainability policy
        say(f"fine-tuning: head, then top {unfreeze} blocks")
        clf = TransferClassifier(get_backbone(backbone, input_shape=shape, weights="imagenet"), num_classes,
                                 policy=UnfreezeTop(unfreeze), dropout=0.2)
        history = clf.fine_tune(x, y, head_epochs=epochs, epochs=epochs, head_learning_rate=1e-3,
                                learning_rate=1e-4, batch_size=32, verbose=verbose)
        rows.append({"labels": len(x), "method": f"fine-tuned (UnfreezeTop({unfreeze}))",
                     "accuracy": _accuracy(clf, x_test4, y_test)})
        histories[len(x)], fine_tuned = history, clf
        # 3. same architecture from scratch, same number of epochs in total
        say("from scratch")
        scratch = TransferClassifier(get_backbone(backbone, input_shape=shape, weights=None), num_classes,
                                     policy=UnfreezeAll(bn="train"), dropout=0.2)
        scratch.compile(optimizer=keras.optimizers.Adam(1e-3))
        scratch.fit(x, y, epochs=2 * epochs, batch_size=32, verbose=verbose)
        rows.append({"labels": len(x), "method": "from scratch (random init)", "accuracy": _accuracy(scratch, x_test4, y_test)})
    _write_outputs(output, rows, histories, fine_tuned, plot_accuracy_vs_labels, plot_history)
    if verbose:
        print("\n" + format_table(rows))
    return rows


def _accuracy(model, x, y) -> float:
    probs = model.predict(x, batch_size=64, verbose=0)
    return float(np.mean(np.argmax(probs, axis=-1) == y))


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned text table: labels, method, accuracy."""
    lines = [f"{'labels':>7}  {'method':<45} {'accuracy':>8}"]
    lines += [f"{r['labels']:>7}  {r['method']:<45} {r['accuracy']:>8.3f}" for r in rows]
    return "\n".join(lines)


def _write_outputs(output, rows, histories, fine_tuned, plot_accuracy_vs_labels, plot_history) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(os.path.join(output, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["labels", "method", "accuracy"])
        writer.writeheader()
        writer.writerows(rows)
    curves: dict = {}
    for r in rows:
        curves.setdefault(r["method"], {})[r["labels"]] = r["accuracy"]
    fig = plot_accuracy_vs_labels(curves, chance=0.1)
    fig.savefig(os.path.join(output, "results.png"), dpi=100)
    plt.close(fig)
    if histories:
        largest = max(histories)
        fig = plot_history(histories[largest], metrics=("loss", "accuracy"))
        fig.suptitle(f"two-phase fine-tuning, {largest} labels")
        fig.savefig(os.path.join(output, "fine_tuning_history.png"), dpi=100)
        plt.close(fig)
    if fine_tuned is not None:
        _save_atomically(fine_tuned, os.path.join(output, "fine_tuned.keras"))
