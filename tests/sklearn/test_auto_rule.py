"""`method="auto"`'s label-free rule on synthetic scores: rank average, guard, refusals, ties."""

import numpy as np
import pytest

from keras_transfer.sklearn import _auto


def _row(source_accuracy, **scores):
    row = {"source_accuracy": source_accuracy}
    for v in _auto.RULE:
        row.setdefault(v, scores.get(v, 0.5))
    return row


def _correct(accuracy, n=200, seed=0):
    """Per-row correctness with exactly ``accuracy * n`` correct rows."""
    out = np.zeros(n, dtype=bool)
    out[: int(round(accuracy * n))] = True
    return np.random.default_rng(seed).permutation(out)


def test_rank_average_ranks_each_validator_in_its_direction_and_shares_ties():
    rows = {
        "a": {"reverse_validation": 0.9, "dev": 0.5, "im": 1.0},
        "b": {"reverse_validation": 0.8, "dev": 0.1, "im": 1.0},
        "c": {"reverse_validation": 0.7, "dev": 0.3, "im": 0.2},
    }
    ranks = _auto.rank_average(rows, ("reverse_validation", "dev", "im"))
    # reverse validation (higher better): a 2, b 1, c 0; DEV (lower better): b 2, c 1, a 0;
    # IM (higher better): a and b tie for ranks 1 and 2 (1.5 each), c 0
    assert ranks == pytest.approx({"a": (2 + 0 + 1.5) / 3, "b": (1 + 2 + 1.5) / 3, "c": (0 + 1 + 0) / 3})


def test_choose_takes_the_best_rank_average_among_guarded_candidates():
    table = {
        "source_only": _row(0.89, reverse_validation=0.70, im=0.30),
        "adabn": _row(0.90, reverse_validation=0.80, im=1.00),
        "dann": _row(0.91, reverse_validation=0.85, im=1.10),
        "mcc": _row(0.70, reverse_validation=0.99, im=2.00),  # best scores, but source accuracy fell
    }
    correct = {
        "source_only": _correct(0.89),
        "adabn": _correct(0.90, seed=1),
        "dann": _correct(0.91, seed=2),
        "mcc": _correct(0.70, seed=3),
    }
    assert _auto.choose(table, correct, 200) == "dann"
    assert table["dann"]["status"] == "selected"
    assert table["mcc"]["status"] == "refused: held-out source accuracy dropped"
    assert "rank_average" not in table["mcc"]
    assert table["source_only"]["status"].startswith("eligible: lower rank average")
    # among the 3 eligible candidates dann ranks top on every validator: rank 2 of 0..2
    assert table["dann"]["rank_average"] == 2.0 and table["source_only"]["rank_average"] == 0.0


def test_choose_keeps_refusals_made_before_and_refuses_undefined_scores():
    table = {
        "source_only": _row(0.9, reverse_validation=0.7, im=0.3),
        "coral": {"status": "refused: collapsed (100% of target predictions are class 1)"},
        "dann": _row(0.9, reverse_validation=float("nan"), im=5.0),
    }
    correct = {"source_only": _correct(0.9), "coral": _correct(0.9), "dann": _correct(0.9)}
    assert _auto.choose(table, correct, 200) == "source_only"
    assert table["coral"]["status"].startswith("refused: collapsed")
    assert table["dann"]["status"] == "refused: reverse_validation undefined"
    assert table["source_only"]["status"] == "selected"


def test_choose_breaks_ties_towards_the_earlier_candidate():
    table = {
        "source_only": _row(0.9, reverse_validation=0.8, im=1.0),
        "adabn": _row(0.9, reverse_validation=0.8, im=1.0),
    }
    correct = {"source_only": _correct(0.9), "adabn": _correct(0.9, seed=1)}
    assert _auto.choose(table, correct, 200) == "source_only"


def test_guard_tolerance_is_the_paired_standard_error_when_larger():
    # 40 held-out rows: source-only right on 36; the candidate wrong on 4 more rows (-0.10), which
    # is above ACCURACY_TOLERANCE (0.02) and above the paired standard error (0.048): refused
    base = np.array([True] * 36 + [False] * 4)
    worse = base.copy()
    worse[:4] = False
    se = float(np.std(worse.astype(float) - base, ddof=1) / np.sqrt(40))
    assert 0.02 < se < 0.10
    table = {
        "source_only": _row(0.9, reverse_validation=0.1, im=0.1),
        "dann": _row(0.8, reverse_validation=0.9, im=0.9),
    }
    assert _auto.choose(table, {"source_only": base, "dann": worse}, 40) == "source_only"
    assert table["dann"]["status"] == "refused: held-out source accuracy dropped"
    # wrong on 3 rows source-only got right, right on 2 it got wrong: -0.025, within the paired
    # standard error (0.057, larger than ACCURACY_TOLERANCE): kept, and it wins
    mixed = base.copy()
    mixed[:3] = False
    mixed[36:38] = True
    se = float(np.std(mixed.astype(float) - base, ddof=1) / np.sqrt(40))
    assert 0.05 < se < 0.06
    table = {
        "source_only": _row(0.9, reverse_validation=0.1, im=0.1),
        "dann": _row(0.875, reverse_validation=0.9, im=0.9),
    }
    assert _auto.choose(table, {"source_only": base, "dann": mixed}, 40) == "dann"


def _labelled(row, accuracy, log_loss=0.5):
    return {**row, "target_val_accuracy": accuracy, "target_val_log_loss": log_loss}


def test_choose_with_labels_lets_conclusive_labels_decide_and_the_rule_break_ties():
    top = np.ones(50, dtype=bool)
    top[:10] = False  # 40 of 50 right
    close = top.copy()
    close[10:13] = False  # 37 of 50: 0.06 below top, more than one paired standard error
    far = top.copy()
    far[10:25] = False  # 25 of 50: -0.30, far outside one paired standard error (0.065)
    se_close = float(np.std(top.astype(float) - close, ddof=1) / np.sqrt(50))
    assert 0.03 < se_close < 0.04  # 3 discordant rows
    near = top.copy()
    near[[10, 11]] = False
    near[[0, 1]] = True  # 40 of 50 as well, on different rows: a tie the labels cannot break
    table = {
        "source_only": _labelled(_row(0.9, reverse_validation=0.1, im=0.1), 0.80, 0.4),
        "dann": _labelled(_row(0.9, reverse_validation=0.9, im=0.9), 0.80, 0.6),
        "mcc": _labelled(_row(0.9, reverse_validation=0.95, im=0.95), 0.74),
        "coral": _labelled(_row(0.9, reverse_validation=0.99, im=0.99), 0.50),
    }
    correct = {n: _correct(0.9, seed=i) for i, n in enumerate(table)}
    labelled = {"source_only": top, "dann": near, "mcc": close, "coral": far}
    assert _auto.choose_with_labels(table, correct, labelled) == "dann"
    # source-only is the most accurate by labels (lower log-loss at equal accuracy), dann ties it
    # within one paired standard error and wins on the label-free rule
    assert table["dann"]["status"] == "selected"
    assert table["source_only"]["status"].startswith("eligible: lower rank average")
    for name in ("mcc", "coral"):  # best label-free scores, but the labels rule them out
        assert table[name]["status"].startswith(
            "eligible: less accurate on the target labels than source_only"
        )
