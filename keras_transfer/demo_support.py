"""What the two command-line demos share: the output-folder check, atomic CSV/PNG writers and a
batched accuracy.

`keras_transfer.demo` (transfer learning) and `keras_transfer.adaptation_demo` (domain
adaptation) both refuse to overwrite earlier results unless asked, write every file atomically
(`keras_transfer.atomic_files.atomic_write`) and score models on test images; these are the
functions they use for it.

Example:
    >>> import os, tempfile
    >>> from keras_transfer.demo_support import check_output_folder, write_csv
    >>> folder = tempfile.mkdtemp()
    >>> check_output_folder(folder, overwrite=False, files=("results.csv",))
    >>> write_csv(os.path.join(folder, "results.csv"), [{"method": "probe", "accuracy": 0.5}])
    >>> open(os.path.join(folder, "results.csv")).read().split()
    ['method,accuracy', 'probe,0.5']
    >>> check_output_folder(folder, overwrite=False, files=("results.csv",))
    Traceback (most recent call last):
    ...
    FileExistsError: `output`=... already holds ['results.csv']; pass --overwrite (overwrite=True) to replace them, or choose another --output folder.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from keras_transfer.atomic_files import atomic_write

__all__ = ["accuracy", "check_output_folder", "predict_in_equal_batches", "save_png", "write_csv"]


def check_output_folder(output: str, overwrite: bool, files: tuple[str, ...]) -> None:
    """Refuse (`FileExistsError`) when ``output`` already holds one of ``files``, unless
    ``overwrite``; create ``output`` when it does not exist."""
    existing = [f for f in files if os.path.exists(os.path.join(output, f))]
    if existing and not overwrite:
        raise FileExistsError(
            f"`output`={output!r} already holds {existing}; pass --overwrite (overwrite=True) to "
            "replace them, or choose another --output folder."
        )
    os.makedirs(output, exist_ok=True)


def predict_in_equal_batches(model, x, verbose: int = 0, batch_size: int = 64):
    """``model.predict`` in equal batches: the short last batch is padded and its rows dropped.

    Keras traces its predict step once per batch shape, so a short last batch costs a second
    trace per model, and a few such models make TensorFlow print its "triggered tf.function
    retracing" warning. Rows are independent in inference mode, so padding changes no output.
    """
    n = len(x)
    pad = -n % batch_size
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    return model.predict(x, batch_size=batch_size, verbose=verbose)[:n]


def accuracy(model, x, y) -> float:
    """The share of rows of ``x`` whose arg-max prediction is the integer label in ``y``."""
    probs = predict_in_equal_batches(model, x)
    return float(np.mean(np.argmax(probs, axis=-1) == y))


def write_csv(path: str, rows: list[dict]) -> None:
    """``rows`` (dicts with the same keys) as a CSV file with a header, written atomically."""
    with atomic_write(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def save_png(fig, path: str) -> None:
    """Save a matplotlib figure as PNG atomically (closed even when saving fails)."""
    import matplotlib.pyplot as plt

    try:
        with atomic_write(path) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
    finally:
        plt.close(fig)
