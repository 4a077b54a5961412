"""Validator benchmark: every candidate's label-free scores and target accuracy, per pair and seed.

For each pair and seed, the labelled source is split 80/20 (stratified) and the unlabelled target
adaptation set 75/25, as ``DomainAdaptationClassifier(method="auto")`` splits them. Every
candidate trains once on the 80% / 75% parts; then it is scored on the held-out parts by every
validator of `keras_transfer.adaptation` (held-out source accuracy, reverse validation, DEV, SND,
entropy, BNM, IM, ClassAMI, MixVal) and by the collapse check, and its accuracy is measured on the
pair's target test set (never adapted on). One JSON line per (pair, seed, candidate) goes to
``--results``, so any selection rule can be recomputed from the records without retraining
(``--report``: the leaderboard). The records also hold each candidate's accuracy on 50 labelled
images drawn (fixed seed) from the held-out target part: the few-label validation of
``fit(..., X_target_val=..., y_target_val=...)``.

Run (from ``benchmarks/``, with the repository on ``PYTHONPATH`` when the package is not installed):
    nice -n 10 python validator_benchmark.py --results results/validators.jsonl
    python validator_benchmark.py --results results/validators.jsonl --report

Pairs: ``digits``, ``fashion_mnist`` and ``mnist_m`` (2,000 source digits instead of 4,000) with
the LeNet, and ``fashion_lite0`` (the frozen pretrained EfficientNet-Lite0 trunk, its top blocks
adapted), as described in ``da_benchmark.py``.

Pairs, networks and training come from ``da_benchmark.py`` (the DANN paper's LeNet with
BatchNorm and AdaBN, annealed SGD, batch 64 per domain); the epochs per pair are below (fewer
than da_benchmark.py's, to fit a shared 2-core machine: said wherever the numbers are quoted).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

CANDIDATES = ("source_only", "adabn", "dann", "dann_self_training", "coral", "mcc")
VALIDATORS = (
    "source_accuracy",
    "reverse_validation",
    "dev",
    "snd",
    "entropy",
    "bnm",
    "im",
    "class_ami",
    "mixval",
)
EPOCHS = {"digits": 15, "fashion_mnist": 6, "mnist_m": 10, "fashion_lite0": 8}
NUM_SOURCE = {"mnist_m": 2000}  # source (and target adaptation) digits of MNIST -> MNIST-M
FEW_LABELS = 50


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="*", default=list(EPOCHS), choices=list(EPOCHS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--candidates", nargs="*", default=list(CANDIDATES), choices=CANDIDATES)
    parser.add_argument("--results", required=True, help="JSON-lines file (appended; runs in it are skipped)")
    parser.add_argument("--report", action="store_true", help="train nothing: print the leaderboard")
    parser.add_argument("--sort", action="store_true", help="--report: best rules first")
    parser.add_argument("--picks", nargs="*", help="--report: print these rules' picks")
    return parser.parse_args(argv)


# ----- training and scoring ----------------------------------------------------------------------
def _load(pair, seed, lite):
    import da_benchmark as da

    data = da.load_pair(pair, seed, quick=False)
    n = NUM_SOURCE.get(pair)
    if n is not None:
        data = {k: (v[0][:n], v[1][:n]) if k != "test" else v for k, v in data.items()}
    if pair == "fashion_lite0":  # the frozen Lite0 trunk's feature maps, computed once per image
        data = {k: (lite(v[0]), v[1]) for k, v in data.items()}
    return data


def _split(ys, num_target, seed):
    from sklearn.model_selection import train_test_split

    index = np.arange(len(ys))
    s_train, s_held = train_test_split(index, test_size=0.2, random_state=seed, stratify=ys)
    order = np.random.default_rng(seed).permutation(num_target)
    held = int(round(0.25 * num_target))
    return np.sort(s_train), np.sort(s_held), np.sort(order[held:]), np.sort(order[:held])


def _predict(model, x):
    return np.asarray(model.predict(x, batch_size=500, verbose=0), dtype=np.float64)


def _features_of(model):
    return model.feature_extractor if hasattr(model, "feature_extractor") else model.layers[0]


def score_candidate(model, name, xs_tr, ys_tr, xs_held, ys_held, xt_held, seed):
    """Every validator on the held-out rows (source rows with source BatchNorm statistics)."""
    from keras_transfer import adaptation as ad
    from keras_transfer.sklearn.auto_selection import fitted_with_adabn

    features = _features_of(model)
    context = contextlib.nullcontext()
    if name == "adabn" or fitted_with_adabn(model):
        context = ad.batch_norm_statistics(model, xs_tr, batch_size=64)
    with context:
        probs_s, feats_s = _predict(model, xs_held), _predict(features, xs_held)
    probs_t, feats_t = _predict(model, xt_held), _predict(features, xt_held)
    losses = -np.log(np.clip(probs_s[np.arange(len(ys_held)), ys_held], 1e-7, 1.0))
    scores = {
        "source_accuracy": float(np.mean(probs_s.argmax(1) == ys_held)),
        "reverse_validation": ad.reverse_validation(feats_t, probs_t, feats_s, ys_held),
        "dev": ad.deep_embedded_validation(feats_s, losses, feats_t, random_state=seed),
        "snd": ad.soft_neighborhood_density(probs_t),
        "entropy": ad.prediction_entropy(probs_t),
        "bnm": ad.batch_nuclear_norm(probs_t),
        "im": ad.information_maximization_score(probs_t),
        "class_ami": ad.class_ami(feats_t, probs_t, random_state=seed),
        "mixval": ad.mix_validation(lambda z: _predict(model, z), xt_held, random_state=seed),
    }
    report = ad.check_collapse(
        probs_t, reference_distribution=np.bincount(ys_tr, minlength=probs_t.shape[1]), features=feats_t
    )
    correct = "".join("1" if c else "0" for c in probs_s.argmax(1) == ys_held)
    return scores, report, correct, probs_t


def run(args):
    import da_benchmark as da
    import keras

    from keras_transfer.adaptation import adapt_batch_norm

    done = set()
    if os.path.exists(args.results):
        with open(args.results) as f:
            done = {(r["pair"], r["seed"], r["candidate"]) for r in map(json.loads, filter(str.strip, f))}
    lite = None
    for pair in args.pairs:
        epochs, scale = EPOCHS[pair], da.SETTINGS[pair]["scale"]
        for seed in range(args.seeds):
            todo = [c for c in args.candidates if (pair, seed, c) not in done]
            if not todo:
                continue
            if pair == "fashion_lite0" and lite is None:
                lite = da.LiteTrunk()
            data = _load(pair, seed, lite)
            (xs, ys), (xt, yt), (x_test, y_test) = data["source"], data["target"], data["test"]
            s_tr, s_held, t_tr, t_held = _split(ys, len(xt), seed)
            few = np.random.default_rng(seed + 7).choice(
                t_held, size=min(FEW_LABELS, len(t_held)), replace=False
            )
            sub = {"source": (xs[s_tr], ys[s_tr]), "target": (xt[t_tr], None)}
            common = {
                "pair": pair,
                "seed": seed,
                "epochs": epochs,
                "sizes": [len(s_tr), len(s_held), len(t_tr), len(t_held), len(x_test)],
            }
            plain = None
            for name in todo:
                start = time.perf_counter()
                keras.utils.set_random_seed(seed)
                if name in ("source_only", "adabn"):
                    model = (
                        da.fit_plain(xs[s_tr], ys[s_tr], pair, lite, epochs, da.steps_for(sub, epochs), seed)
                        if plain is None
                        else plain
                    )
                    plain = model
                    if name == "adabn":
                        model = keras.models.clone_model(plain)
                        model.set_weights(plain.get_weights())
                        adapt_batch_norm(model, xt[t_tr].astype("float32"), batch_size=da.BATCH)
                else:
                    model = da.fit_ours(name, sub, pair, lite, epochs, scale)[0]
                train_wall = time.perf_counter() - start
                scores, report, correct, _ = score_candidate(
                    model, name, xs[s_tr], ys[s_tr], xs[s_held], ys[s_held], xt[t_held], seed
                )
                probs_few = _predict(model, xt[few])
                few_correct = probs_few.argmax(1) == yt[few]
                record = {
                    **common,
                    "candidate": name,
                    "test_accuracy": float(np.mean(_predict(model, x_test).argmax(1) == y_test)),
                    "few_label_accuracy": float(np.mean(few_correct)),
                    "few_label_loss": float(
                        np.mean(-np.log(np.clip(probs_few[np.arange(len(few)), yt[few]], 1e-7, 1.0)))
                    ),
                    "few_label_correct": "".join("1" if c else "0" for c in few_correct),
                    "num_few_labels": int(len(few)),
                    "scores": scores,
                    "collapsed": report.collapsed,
                    "symptoms": list(report.symptoms),
                    "source_correct": correct,
                    "train_wall": train_wall,
                }
                with open(args.results, "a") as f:
                    f.write(json.dumps(record) + "\n")
                print(
                    f"{pair} seed={seed} {name:<20} test {record['test_accuracy']:.3f} ({train_wall:.0f} s)",
                    flush=True,
                )


# ----- the leaderboard ---------------------------------------------------------------------------
def load_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def groups(records, candidates=CANDIDATES):
    """(pair, seed) -> {candidate: record}, only where every candidate was measured."""
    out = {}
    for r in records:
        out.setdefault((r["pair"], r["seed"]), {})[r["candidate"]] = r
    return {k: v for k, v in sorted(out.items()) if all(c in v for c in candidates)}


def _eligible(group):
    """Candidates not found collapsed (all of them if every one was)."""
    return [c for c, r in group.items() if not r["collapsed"]] or list(group)


def pick_by(group, validator, candidates=None):
    """The candidate a validator picks: best score among the candidates not found collapsed."""
    from keras_transfer.adaptation import HIGHER_IS_BETTER

    higher = HIGHER_IS_BETTER.get(validator, True)
    ok = [c for c in (candidates or _eligible(group)) if math.isfinite(group[c]["scores"][validator])]
    ok = ok or list(candidates or group)
    return (max if higher else min)(ok, key=lambda c: group[c]["scores"][validator])


def pick_by_rank_average(group, validators, candidates=None):
    """The best mean rank over ``validators`` (ties: the earlier candidate of CANDIDATES)."""
    from keras_transfer.adaptation import HIGHER_IS_BETTER

    ok = [c for c in CANDIDATES if c in (candidates or _eligible(group))]
    ranks = np.zeros(len(ok))
    for v in validators:
        values = np.array([group[c]["scores"][v] for c in ok], dtype=float)
        values = np.nan_to_num(values if HIGHER_IS_BETTER.get(v, True) else -values, nan=-np.inf)
        ranks += np.argsort(np.argsort(values, kind="stable"), kind="stable")
    return ok[int(np.argmax(ranks))]


def guarded(group, tolerance=0.02):
    """Candidates (not collapsed) whose held-out source accuracy is within ``max(tolerance, one
    paired standard error)`` of source-only's: auto's guard."""
    base = np.array([c == "1" for c in group["source_only"]["source_correct"]], dtype=float)
    keep = []
    for c in _eligible(group):
        mine = np.array([x == "1" for x in group[c]["source_correct"]], dtype=float)
        se = float(np.std(mine - base, ddof=1) / math.sqrt(len(base)))
        if mine.mean() >= base.mean() - max(tolerance, se):
            keep.append(c)
    return keep or ["source_only"]


def pick_few_label(group):
    """Few-label validation: the most accurate on the labelled target rows, ties the lower log-loss
    (the rule of ``DomainAdaptationClassifier`` with ``X_target_val``)."""
    ok = [c for c in CANDIDATES if c in _eligible(group)]
    return max(ok, key=lambda c: (group[c]["few_label_accuracy"], -group[c].get("few_label_loss", 0.0)))


def _auto_table(group, labels=False):
    """The recorded scores as ``_auto``'s table (collapsed candidates refused), per-row source
    correctness, and (``labels``) few-label scores and correctness."""
    from keras_transfer.sklearn import auto_selection

    table, correct, labelled = {}, {}, {}
    for c in CANDIDATES:
        r = group[c]
        table[c] = dict(r["scores"])
        if r["collapsed"] and c != "source_only":
            table[c]["status"] = "refused: collapsed"
        correct[c] = np.array([x == "1" for x in r["source_correct"]])
        if labels:
            labelled[c] = np.array([x == "1" for x in r["few_label_correct"]])
            table[c].update(
                {"target_val_accuracy": r["few_label_accuracy"], "target_val_log_loss": r["few_label_loss"]}
            )
    return auto_selection, table, correct, labelled


def pick_auto(group):
    """``DomainAdaptationClassifier(method="auto")``'s rule itself (``auto_selection.choose``) on the
    recorded scores, after its collapse refusal; its shift gate is not recorded (every pair here
    has a shift a domain classifier sees)."""
    auto, table, correct, _ = _auto_table(group)
    return auto.choose(table, correct, len(correct["source_only"]))


def pick_auto_with_labels(group):
    """``method="auto"`` with ``X_target_val``/``y_target_val`` (``auto_selection.choose_with_labels``): the
    labels decide where they are conclusive (one paired standard error), auto's rule elsewhere."""
    auto, table, correct, labelled = _auto_table(group, labels=True)
    return auto.choose_with_labels(table, correct, labelled)


def source_only_std(records):
    """pair -> standard deviation over seeds of source-only's target test accuracy."""
    by_pair = {}
    for r in records:
        if r["candidate"] == "source_only":
            by_pair.setdefault(r["pair"], []).append(r["test_accuracy"])
    return {p: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for p, v in by_pair.items()}


def leaderboard(records, rules):
    """rule name -> dict of mean/worst shortfall, counts and picks over complete pair-seeds."""
    table = {}
    grouped = groups(records)
    std = source_only_std(records)
    for rule_name, rule in rules.items():
        shortfalls, below, far_below, picks = [], 0, 0, []
        for (pair, seed), group in grouped.items():
            chosen = rule(group)
            best = max(r["test_accuracy"] for r in group.values())
            acc = group[chosen]["test_accuracy"]
            base = group["source_only"]["test_accuracy"]
            shortfalls.append(best - acc)
            below += acc < base
            far_below += acc < base - std[pair]
            picks.append(f"{pair}/{seed}:{chosen}")
        if shortfalls:
            shortfalls = np.array(shortfalls)
            table[rule_name] = {
                "mean": float(np.mean(shortfalls)),
                "worst": float(np.max(shortfalls)),
                "below": below,
                "far_below": far_below,
                "within": int(np.sum(shortfalls <= 0.02 + 1e-9)),
                "n": len(shortfalls),
                "picks": picks,
            }
    return table


LABEL_FREE = tuple(v for v in VALIDATORS if v != "source_accuracy")


def rules_to_compare():
    """Every single validator, the rank averages and guarded combinations studied, auto's rule."""
    rules = {v: (lambda g, v=v: pick_by(g, v)) for v in VALIDATORS}
    for v in LABEL_FREE:
        rules[f"guard, then {v}"] = lambda g, v=v: pick_by(g, v, guarded(g))
    rules["rank average (all label-free)"] = lambda g: pick_by_rank_average(g, LABEL_FREE)
    rules["guard, then rank average (all label-free)"] = lambda g: pick_by_rank_average(
        g, LABEL_FREE, guarded(g)
    )
    for combo in [
        ("reverse_validation", "im"),
        ("reverse_validation", "bnm"),
        ("reverse_validation", "snd"),
        ("reverse_validation", "dev"),
        ("reverse_validation", "entropy"),
        ("reverse_validation", "im", "dev"),
        ("reverse_validation", "bnm", "dev"),
        ("im", "dev"),
        ("bnm", "dev"),
        ("reverse_validation", "source_accuracy"),
        ("reverse_validation", "source_accuracy", "im"),
        ("reverse_validation", "source_accuracy", "bnm"),
    ]:
        name = " + ".join(combo)
        rules[f"rank average ({name})"] = lambda g, c=combo: pick_by_rank_average(g, c)
        rules[f"guard, then rank average ({name})"] = lambda g, c=combo: pick_by_rank_average(
            g, c, guarded(g)
        )
    rules["auto's rule (as implemented)"] = pick_auto
    rules["few_label (50 target labels)"] = pick_few_label
    rules["auto with 50 target labels (as implemented)"] = pick_auto_with_labels
    rules["oracle (target test labels)"] = lambda g: max(g, key=lambda c: g[c]["test_accuracy"])
    rules["source_only always"] = lambda g: "source_only"
    return rules


def report(args):
    records = load_records(args.results)
    rules = rules_to_compare()
    board = leaderboard(records, rules)
    grouped = groups(records)
    print(f"{len(grouped)} pair-seeds with all of {', '.join(CANDIDATES)}")
    print(
        "| rule | pick minus best, mean | worst | below source-only | more than one seed-std below "
        "source-only | within 2 points of best | n |"
    )
    print("|---|---|---|---|---|---|---|")
    order = sorted(board, key=lambda name: (-board[name]["within"], board[name]["mean"]))
    for name in order if args.sort else board:
        b = board[name]
        print(
            f"| {name} | {-b['mean']:+.3f} | {-b['worst']:+.3f} | {b['below']}/{b['n']} | "
            f"{b['far_below']}/{b['n']} | {b['within']}/{b['n']} | {b['n']} |"
        )
    print("\n| pair | seed | " + " | ".join(CANDIDATES) + " |")
    print("|---|---|" + "---|" * len(CANDIDATES))
    for (pair, seed), g in grouped.items():
        cells = [
            f"{g[c]['test_accuracy']:.3f}" + (" (collapsed)" if g[c]["collapsed"] else "") for c in CANDIDATES
        ]
        print(f"| {pair} | {seed} | " + " | ".join(cells) + " |")
    for name in args.picks or []:
        print(f"\n{name}: " + ", ".join(board[name]["picks"]))


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if args.report:
        report(args)
    else:
        run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
