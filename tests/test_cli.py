"""The command line: help, listing, the demo end to end in reduced mode, and no silent overwrite."""

import csv
import os

import keras
import numpy as np
import pytest

from keras_transfer.cli import main


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
        "--unfreeze",
        "--backbone",
        "--seed",
        "--quick",
        "--overwrite",
        "--verbose",
    ):
        assert option in text


def test_backbones_lists_matching_names(capsys):
    assert main(["backbones", "resnet*v2"]) == 0
    assert capsys.readouterr().out.split() == ["resnet101_v2", "resnet152_v2", "resnet50_v2"]


def test_demo_runs_end_to_end_in_reduced_mode_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--output", str(out), "--verbose", "0"]) == 0
    for name in ("results.csv", "results.png", "fine_tuned.keras", "fine_tuning_history.png"):
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
    assert main(["demo", "--quick", "--output", str(out), "--verbose", "0"]) == 2
    assert "already holds" in capsys.readouterr().err
    assert os.path.getmtime(out / "fine_tuned.keras") == before
