"""The demo's parts: progress verbosity, the overwrite guard, atomic writes, training from scratch."""

import io
import os

import keras
import matplotlib
import numpy as np
import pytest

from keras_transfer import demo
from keras_transfer.demo_support import check_output_folder
from keras_transfer.models import TransferClassifier
from keras_transfer.policies import UnfreezeAll, batch_norm_layers
from tests.policies._helpers import tiny_backbone

matplotlib.use("Agg")

ROWS = [{"labels": 20, "method": "from scratch (random init)", "accuracy": 0.5, "seconds": 1.0}]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    "verbose, stream, expected",
    [
        (1, _Terminal(), 1),
        (1, io.StringIO(), 2),
        (2, _Terminal(), 2),
        (0, io.StringIO(), 0),
        (1, object(), 2),
    ],
)
def test_progress_verbosity_is_plain_when_stdout_is_not_a_terminal(verbose, stream, expected):
    assert demo.progress_verbosity(verbose, stream) == expected


@pytest.mark.parametrize("name", demo.RESULT_FILES)
def test_run_demo_refuses_to_overwrite_any_result_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"earlier result")
    with pytest.raises(FileExistsError, match=name):
        demo.run_demo(str(tmp_path), labels=[20], test_size=20, image_size=32, epochs=1, verbose=0)
    assert (tmp_path / name).read_bytes() == b"earlier result"


def test_scratch_labels_choose_the_budgets_with_a_scratch_row_and_budgets_do_not_share_randomness(
    tmp_path,
):
    tiny = dict(test_size=20, image_size=32, epochs=1, verbose=0, overwrite=True)
    rows = demo.run_demo(str(tmp_path / "a"), labels=[20, 30], **tiny)  # default: the smallest
    methods = {(r["labels"], r["method"].split(" ")[0]) for r in rows}
    assert methods == {
        (20, "pretrained"),
        (20, "fine-tuned"),
        (20, "from"),
        (30, "pretrained"),
        (30, "fine-tuned"),
    }
    alone = demo.run_demo(str(tmp_path / "b"), labels=[30], scratch_labels=[30], **tiny)
    assert [r["method"].split(" ")[0] for r in alone] == ["pretrained", "fine-tuned", "from"]
    # budget 30 starts from the seed whether or not budget 20 (and its scratch row) ran before it
    assert [r["accuracy"] for r in rows if r["labels"] == 30] == [r["accuracy"] for r in alone[:2]]
    with pytest.raises(
        ValueError, match=r"`scratch_labels` must be values of `labels` \[20\]; received \[100\]"
    ):
        demo.run_demo(str(tmp_path / "c"), labels=[20], scratch_labels=[100], **tiny)
    assert not (tmp_path / "c").exists()  # refused before any work


def test_write_outputs_is_atomic_a_failed_figure_keeps_the_previous_file(tmp_path):
    import matplotlib.pyplot as plt

    (tmp_path / "results.png").write_bytes(b"previous plot")

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    def broken_plot(curves, chance):
        fig = plt.figure()
        fig.savefig = disk_full
        return fig

    with pytest.raises(OSError, match="disk full"):
        demo._write_outputs(str(tmp_path), ROWS, {}, None, broken_plot, None)
    assert (tmp_path / "results.png").read_bytes() == b"previous plot"
    assert sorted(os.listdir(tmp_path)) == ["results.png"]  # no partial set, no temporary file left
    plt.close("all")


def _plot(curves, chance):
    import matplotlib.pyplot as plt

    return plt.figure()


def test_write_outputs_checks_again_for_results_created_during_the_run(tmp_path):
    # the check at the start passes
    check_output_folder(str(tmp_path), overwrite=False, files=demo.RESULT_FILES)
    (tmp_path / "results.csv").write_text("another run's results")  # ... then one appears
    with pytest.raises(FileExistsError, match=r"`output`.*results\.csv.*unsaved-"):
        demo._write_outputs(str(tmp_path), ROWS, {}, None, _plot, None, overwrite=False)
    assert (tmp_path / "results.csv").read_text() == "another run's results"
    (kept,) = [p for p in tmp_path.iterdir() if p.name.startswith("unsaved-")]
    assert sorted(os.listdir(kept)) == ["results.csv", "results.png"]  # this run's results kept
    demo._write_outputs(str(tmp_path), ROWS, {}, None, _plot, None, overwrite=True)
    assert "another run" not in (tmp_path / "results.csv").read_text()


_KILLED_DURING_WRITES = """
import os, signal, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from keras_transfer import demo

def plot_then_die(curves, chance):  # results.csv is written by now; the figure never is
    os.kill(os.getpid(), signal.SIGKILL)

rows = [{"labels": 20, "method": "m", "accuracy": 0.5, "seconds": 1.0}]
demo._write_outputs(sys.argv[1], rows, {}, None, plot_then_die, None, overwrite=False)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_run_killed_while_writing_leaves_no_partial_results_and_a_rerun_proceeds(tmp_path):
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _KILLED_DURING_WRITES, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == -9, run.stderr[-2000:]
    assert not any((tmp_path / name).exists() for name in demo.RESULT_FILES)  # not results.csv alone
    check_output_folder(str(tmp_path), overwrite=False, files=demo.RESULT_FILES)  # the rerun is not refused
    demo._write_outputs(str(tmp_path), ROWS, {}, None, _plot, None, overwrite=False)
    assert sorted(os.listdir(tmp_path)) == ["results.csv", "results.png"]  # the killed run's staging is gone


def test_format_table_prints_a_rows_note_under_it():
    rows = [
        {
            "labels": 100,
            "method": "pretrained features + logistic regression",
            "accuracy": 0.7,
            "seconds": 1.0,
        },
        {
            "labels": 100,
            "method": "fine-tuned (UnfreezeAll)",
            "accuracy": 0.7,
            "seconds": 2.0,
            "note": "kept the probe: fine-tuning did not beat it on the validation split (0.650 vs 0.700)",
        },
    ]
    lines = demo.format_table(rows).splitlines()
    assert len(lines) == 4 and lines[2].split()[:2] == ["100", "fine-tuned"]
    assert lines[3].strip() == f"({rows[1]['note']})"
    assert len(demo.format_table(ROWS).splitlines()) == 2  # rows without a note: one line each


class _Watch(keras.callbacks.Callback):
    """Records each epoch's validation accuracy, and the first BatchNorm layer's moving variance as the
    validation pass used it next to the variance it would have straight from Keras' training."""

    def __init__(self):
        super().__init__()
        self.val_accuracy, self.used, self.trained = [], [], []

    def on_train_batch_end(self, batch, logs=None):
        self.trained_variance = keras.ops.convert_to_numpy(batch_norm_layers(self.model)[0].moving_variance)

    def on_epoch_end(self, epoch, logs=None):
        self.val_accuracy.append(logs["val_accuracy"])
        self.used.append(keras.ops.convert_to_numpy(batch_norm_layers(self.model)[0].moving_variance))
        self.trained.append(self.trained_variance)


def test_train_from_scratch_stops_on_the_validation_accuracy_and_keeps_the_best_epoch(monkeypatch):
    keras.utils.set_random_seed(0)
    monkeypatch.setattr(demo, "SCRATCH_MAX_EPOCHS", 12)
    monkeypatch.setattr(demo, "SCRATCH_PATIENCE", 2)
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)  # class = brightness: learnable from scratch in a few epochs
    x = np.clip(rng.normal(0, 20, (30, 32, 32, 3)) + 40 + 70 * y[:, None, None, None], 0, 255)
    model = TransferClassifier(tiny_backbone(), 3, policy=UnfreezeAll(bn="train"), dropout=0.0)
    watch = _Watch()
    best = demo.train_from_scratch(model, x.astype("float32"), y, batch_size=8, callbacks=[watch])
    assert len(watch.val_accuracy) <= 12  # a stratified 20% split was held out (a val_accuracy)
    # the weights kept are those of the (first) epoch with the highest validation accuracy
    assert best == int(np.argmax(watch.val_accuracy)) + 1
    if len(watch.val_accuracy) < 12:  # stopped: `patience` epochs without improvement
        assert len(watch.val_accuracy) == best + 2
    # validation used re-estimated statistics, not Keras' moving averages (which after 3 steps
    # at momentum 0.99 are still ~97% their initial 1.0)
    assert not np.allclose(watch.used[0], watch.trained[0], rtol=0.05)
    assert np.allclose(watch.trained[0], 1.0, atol=0.1)
    assert np.mean(model.predict(x, verbose=0).argmax(-1) == y) > 0.6  # learned (chance 1/3)
    # an int: that many epochs on every image, no split
    again = TransferClassifier(tiny_backbone("tiny2"), 3, policy=UnfreezeAll(bn="train"), dropout=0.0)
    assert demo.train_from_scratch(again, x.astype("float32"), y, epochs=2, batch_size=8) == 2
