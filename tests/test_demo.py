"""The demo's parts that need no training: progress verbosity, the overwrite guard, atomic writes."""

import io
import os

import matplotlib
import pytest

from keras_transfer import demo

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
    assert sorted(os.listdir(tmp_path)) == ["results.csv", "results.png"]  # no temporary file left
    plt.close("all")
