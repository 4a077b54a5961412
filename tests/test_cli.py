"""The command line: help, version, listing, --quick, the demo end to end in a tiny setting (plain
progress output, every file written, no temporary left) and no silent overwrite."""

import csv
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_transfer
from keras_transfer import demo
from keras_transfer.cli import SIGPIPE_EXIT_CODE, build_parser, main

TINY = ["--labels", "20", "--test-size", "20", "--image-size", "32", "--epochs", "1"]


def test_help_explains_every_demo_option(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--output",
        "--labels",
        "--test-size",
        "--image-size",
        "--epochs",
        "--scratch-epochs",
        "--scratch-labels",
        "--unfreeze",
        "--backbone",
        "--seed",
        "--quick",
        "--overwrite",
        "--verbose",
        "--verbose-tf",
    ):
        assert option in text


def test_version_prints_name_and_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"keras-transfer {keras_transfer.__version__}\n"


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["backbones"], False),
        (["--verbose-tf", "backbones"], True),
        (["backbones", "--verbose-tf"], True),
        (["--verbose-tf", "demo", "--quick"], True),
    ],
)
def test_verbose_tf_is_accepted_before_and_after_the_subcommand(argv, expected):
    assert getattr(build_parser().parse_args(argv), "verbose_tf", False) is expected


def _demo_arguments(monkeypatch, argv):
    seen = {}
    monkeypatch.setattr(demo, "run_demo", lambda **kwargs: seen.update(kwargs) or [])
    assert main(["demo", *argv, "--verbose", "0"]) == 0
    return seen


def test_quick_is_the_full_demos_first_row_on_fewer_test_images(monkeypatch, tmp_path):
    full = _demo_arguments(monkeypatch, ["--output", str(tmp_path)])
    quick = _demo_arguments(monkeypatch, ["--quick", "--output", str(tmp_path)])
    assert (full["labels"], full["test_size"]) == ([100, 1000], 1000)
    assert (quick["labels"], quick["test_size"]) == ([100], 200)
    assert {k: v for k, v in quick.items() if k not in ("labels", "test_size")} == {
        k: v for k, v in full.items() if k not in ("labels", "test_size")
    }
    assert (full["epochs"], full["unfreeze"]) == ("auto", None)  # fine_tune's recipe, UnfreezeAll
    mine = _demo_arguments(monkeypatch, ["--quick", "--labels", "50", "--output", str(tmp_path)])
    assert (mine["labels"], mine["test_size"]) == ([50], 200)


def test_scratch_labels_default_to_the_smallest_budget_and_can_name_all_or_none(monkeypatch, tmp_path):
    out = ["--output", str(tmp_path)]
    assert _demo_arguments(monkeypatch, out)["scratch_labels"] is None  # run_demo: the smallest
    full = _demo_arguments(monkeypatch, [*out, "--scratch-labels", "100", "1000"])
    assert full["scratch_labels"] == [100, 1000]
    assert _demo_arguments(monkeypatch, [*out, "--scratch-labels"])["scratch_labels"] == []


def test_adaptation_demo_refuses_scratch_labels(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--adaptation", "--scratch-labels", "100"])
    assert "--scratch-labels" in capsys.readouterr().err


def test_backbones_lists_matching_names(capsys):
    assert main(["backbones", "resnet*v2"]) == 0
    assert capsys.readouterr().out.split() == ["resnet101_v2", "resnet152_v2", "resnet50_v2"]


def test_backbones_into_a_closed_pipe_ends_quietly():
    """`keras-transfer backbones | head -1`: no BrokenPipeError traceback, SIGPIPE's exit code."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "keras_transfer.cli", "backbones"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == SIGPIPE_EXIT_CODE == 141


def test_demo_runs_end_to_end_with_plain_progress_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", *TINY, "--output", str(out)]) == 0  # stdout is not a terminal here
    printed = capsys.readouterr().out
    assert "Epoch 1/" in printed and "/step" in printed
    assert "\x1b" not in printed and "\b" not in printed and "\r" not in printed
    assert sorted(os.listdir(out)) == sorted(demo.RESULT_FILES)  # no temporary file left behind
    for name in demo.RESULT_FILES:
        assert (out / name).stat().st_size > 0, name
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["method"].split(" ")[0] for r in rows} == {"pretrained", "fine-tuned", "from"}
    assert len(rows) == 3 and all(0.0 <= float(r["accuracy"]) <= 1.0 for r in rows)
    assert all(float(r["seconds"]) > 0 for r in rows)
    model = keras.models.load_model(out / "fine_tuned.keras")
    probs = model.predict(np.zeros((2, 28, 28, 1), "uint8"), verbose=0)
    assert probs.shape == (2, 10) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    before = os.path.getmtime(out / "fine_tuned.keras")
    assert main(["demo", *TINY, "--output", str(out), "--verbose", "0"]) == 2
    assert "already holds" in capsys.readouterr().err
    assert os.path.getmtime(out / "fine_tuned.keras") == before
