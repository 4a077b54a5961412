"""`keras-transfer demo --adaptation`: one real quick run through the command line (silent with
--verbose 0, every file written, rows and CSV agree), the overwrite guard, the CLI's wiring and
the options it refuses."""

import contextlib
import csv
import io

import keras
import numpy as np
import pytest

from keras_transfer import adaptation_demo, demo
from keras_transfer.adaptation_demo import ADAPTATION_FILES, run_adaptation_demo
from keras_transfer.cli import main

FIELDS = ["method", "uses_target_labels", "accuracy", "gain", "seconds"]
METHODS = [
    "source only (no adaptation)",
    "AdaBN (target BatchNorm statistics)",
    "DANN + AdaBN",
    "DANN, then self-training",
    "target oracle (trained on target labels: upper bound)",
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`keras-transfer demo --adaptation --quick --verbose 0`, for real; the rows it returned."""
    output = tmp_path_factory.mktemp("adaptation")
    seen = {}

    def spy(*args, **kwargs):
        seen["rows"] = real(*args, **kwargs)
        return seen["rows"]

    real = adaptation_demo.run_adaptation_demo
    out, err = io.StringIO(), io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        patch.setattr(adaptation_demo, "run_adaptation_demo", spy)
        code = main(["demo", "--adaptation", "--quick", "--output", str(output), "--verbose", "0"])
    return {"code": code, "output": output, "stdout": out.getvalue(), "stderr": err.getvalue(), **seen}


def test_quick_run_is_silent_with_verbose_0_and_writes_every_file(quick_run):
    assert quick_run["code"] == 0
    assert (quick_run["stdout"], quick_run["stderr"]) == ("", "")
    assert sorted(p.name for p in quick_run["output"].iterdir()) == sorted(ADAPTATION_FILES)
    assert (quick_run["output"] / "adaptation_results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = keras.saving.load_model(quick_run["output"] / "dann.keras")
    assert type(model).__name__ == "DANN"
    probs = model.predict(np.zeros((2, 28, 28, 3), "uint8"), verbose=0)
    assert probs.shape == (2, 10) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)


def test_rows_name_each_method_flag_the_oracle_and_give_the_gain_over_source_only(quick_run):
    rows = quick_run["rows"]
    assert [list(row) for row in rows] == [FIELDS] * len(METHODS)
    assert [row["method"] for row in rows] == METHODS
    assert [row["uses_target_labels"] for row in rows] == [False] * (len(METHODS) - 1) + [True]
    for row in rows:
        assert 0.0 <= row["accuracy"] <= 1.0 and row["seconds"] >= 0.0
        assert row["gain"] == pytest.approx(row["accuracy"] - rows[0]["accuracy"], abs=1e-4)
    assert rows[0]["gain"] == 0.0
    with open(quick_run["output"] / "adaptation_results.csv", newline="") as f:
        written = list(csv.DictReader(f))
    assert [list(row) for row in written] == [FIELDS] * len(METHODS)
    assert [(r["method"], float(r["accuracy"]), float(r["gain"])) for r in written] == [
        (r["method"], r["accuracy"], r["gain"]) for r in rows
    ]


def test_table_has_a_header_and_one_line_per_row(quick_run):
    lines = adaptation_demo.format_adaptation_table(quick_run["rows"]).splitlines()
    assert lines[0].split() == ["method", "target", "accuracy", "gain", "over", "source", "only", "seconds"]
    assert [line.startswith(method) for line, method in zip(lines[1:], METHODS)] == [True] * len(METHODS)
    assert len(lines) == 1 + len(METHODS)
    assert f"{quick_run['rows'][2]['gain']:+.3f}" in lines[3]


@pytest.mark.parametrize("name", ADAPTATION_FILES)
def test_refuses_to_overwrite_any_result_file(tmp_path, capsys, name):
    (tmp_path / name).write_bytes(b"earlier result")
    with pytest.raises(FileExistsError, match=name):
        run_adaptation_demo(str(tmp_path), quick=True, verbose=0)
    assert main(["demo", "--adaptation", "--quick", "--output", str(tmp_path), "--verbose", "0"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / name).read_bytes() == b"earlier result"


def test_the_main_demos_results_do_not_block_the_adaptation_demo():
    assert set(ADAPTATION_FILES).isdisjoint(demo.RESULT_FILES)


def _cli_arguments(monkeypatch, module, function, argv):
    seen = {}
    monkeypatch.setattr(module, function, lambda *args, **kwargs: seen.update(kwargs, args=args) or [])
    assert main(["demo", *argv, "--verbose", "0"]) == 0
    return seen


def test_cli_passes_its_options_and_defaults_to_the_adaptation_demo(monkeypatch, tmp_path):
    seen = _cli_arguments(monkeypatch, adaptation_demo, "run_adaptation_demo", ["--adaptation"])
    assert seen == {
        "args": ("demo_output",),
        "seed": 0,
        "epochs": None,
        "quick": False,
        "overwrite": False,
        "verbose": 0,
    }
    argv = [
        "--adaptation",
        "--quick",
        "--epochs",
        "2",
        "--seed",
        "3",
        "--overwrite",
        "--output",
        str(tmp_path),
    ]
    seen = _cli_arguments(monkeypatch, adaptation_demo, "run_adaptation_demo", argv)
    assert seen == {
        "args": (str(tmp_path),),
        "seed": 3,
        "epochs": 2,
        "quick": True,
        "overwrite": True,
        "verbose": 0,
    }


def test_without_adaptation_the_demo_keeps_its_defaults(monkeypatch):
    seen = _cli_arguments(monkeypatch, demo, "run_demo", [])
    # the main demo's defaults: fine_tune's recipe (epochs="auto", no explicit unfreeze)
    assert (seen["image_size"], seen["epochs"], seen["unfreeze"], seen["backbone"]) == (
        96,
        "auto",
        None,
        None,
    )


@pytest.mark.parametrize(
    "option",
    [
        ["--labels", "20"],
        ["--test-size", "20"],
        ["--image-size", "32"],
        ["--scratch-epochs", "1"],
        ["--unfreeze", "1"],
        ["--backbone", "vgg16"],
    ],
)
def test_adaptation_refuses_the_transfer_demos_options(capsys, option):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--adaptation", *option])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"does not take {option[0]}" in err and "--epochs" in err


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "`epochs`"),
        ({"seed": -1}, "`seed`"),
        ({"verbose": 3}, "`verbose`"),
        ({"quick": 1}, "`quick`"),
    ],
)
def test_bad_arguments_name_the_argument(tmp_path, kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        run_adaptation_demo(str(tmp_path), **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_help_describes_the_adaptation_part(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--adaptation" in text and "MNIST -> MNIST-M" in text and "upper bound" in text
