"""Source-free and test-time adaptation benchmark: source-only, AdaBN, TENT and SHOT from one model.

Run (from the repository root):
    python benchmarks/source_free_benchmark.py [--seeds 3] [--pairs mnist_m digits ...]
        [--results benchmarks/results/source_free_benchmark.jsonl] [--report] [--quick]

The pairs, splits, networks and source training are those of ``benchmarks/da_benchmark.py``
(imported from it): per pair and seed one source-only network is trained (plain Keras ``fit`` on
the labelled source, the DANN paper's annealed SGD, BatchNorm after every layer) and every
source-free method starts from a copy of it, seeing only the unlabelled target adaptation set
(never the target test images, never a target label); accuracy is measured on the target test
set. Rows:

* ``source_only``: the source network as trained.
* ``adabn``: BatchNorm statistics re-estimated on the target adaptation set
  (``keras_transfer.adaptation.adapt_batch_norm``).
* ``tent``: ``keras_transfer.models.adapt_at_test_time`` on the target adaptation set (one pass,
  batch 64, Adam 1e-3, one step per batch on BatchNorm's gamma/beta; then the moving statistics
  re-estimated on the same set), evaluated in inference mode on the test set.
* ``tent_online``: the `TENT` wrapper's ``predict`` on the (shuffled) test stream itself, batch 64,
  adapting batch after batch: the paper's online protocol.
* ``shot``: ``keras_transfer.models.SHOT`` on the target adaptation set, beta 0.3, SGD momentum 0.9
  with the paper's annealing ``0.01 / (1 + 10 p) ** 0.75``, batch 64, the pair's epochs of
  da_benchmark (the same budget as its DANN).
* ``shot_im``: the same with ``beta=0`` (information maximisation only, the paper's SHOT-IM).

The row "best with source data" is read from ``benchmarks/results/da_benchmark.jsonl`` (the
da_benchmark records): the best mean over seeds among the package's methods that train on the
labelled source and the unlabelled target without image augmentation (``dann``, ``cdan_e``,
``mcc``, ``coral``, ``mmd``, ``self_training``, ``dann_self_training``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # da_benchmark and dann_benchmark

PAIRS = ("mnist_m", "digits", "fashion_mnist", "fashion_lite0")
METHODS = ("source_only", "adabn", "tent", "tent_online", "shot", "shot_im")
WITH_SOURCE = ("dann", "cdan_e", "mcc", "coral", "mmd", "self_training", "dann_self_training")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 1 epoch, small sets")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--pairs", nargs="*", default=list(PAIRS), choices=PAIRS)
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    parser.add_argument("--results", default=None, help="JSON-lines file: append runs, skip those there")
    parser.add_argument("--report", action="store_true", help="train nothing: print the --results table")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = 1
    return args


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import da_benchmark as da  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_transfer.adaptation import adapt_batch_norm  # noqa: E402
from keras_transfer.models import SHOT, TENT, adapt_at_test_time  # noqa: E402
from keras_transfer.schedules import DANNLearningRate  # noqa: E402


def copy_of(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def run_method(method, source, data, epochs, seed):
    """The adapted model (or, for tent_online, the test predictions) and its collapse flag."""
    xt = data["target"][0]
    if method == "source_only":
        return source, None
    if method == "adabn":
        model = copy_of(source)
        adapt_batch_norm(model, xt, batch_size=da.BATCH)
        return model, None
    if method == "tent":
        model = adapt_at_test_time(source, xt, batch_size=da.BATCH)
        return model, model.collapse_report.collapsed
    if method == "tent_online":
        x_test, y_test = data["test"]
        order = np.random.default_rng(seed).permutation(len(x_test))
        wrapper = TENT(copy_of(source))
        wrapper.compile()
        predictions = np.empty((len(x_test), 10))
        predictions[order] = wrapper.predict(x_test[order], batch_size=da.BATCH, verbose=0)
        return predictions, wrapper.collapse_report.collapsed
    model = SHOT.from_model(source, beta=0.3 if method == "shot" else 0.0)
    steps = int(np.ceil(len(xt) / da.BATCH)) * epochs
    model.compile(optimizer=keras.optimizers.SGD(DANNLearningRate(steps), momentum=0.9))
    model.fit(xt, epochs=epochs, batch_size=da.BATCH, verbose=0)
    return model, model.collapse_report.collapsed


def accuracy(model_or_predictions, x, y):
    if isinstance(model_or_predictions, np.ndarray):
        return float(np.mean(model_or_predictions.argmax(1) == y))
    return da.accuracy(model_or_predictions, x, y)


def best_with_source(pair):
    """(method, mean, std, n) of the best da_benchmark record with source data on ``pair``."""
    path = os.path.join(HERE, "results", "da_benchmark.jsonl")
    if not os.path.exists(path):
        return None
    records = [json.loads(line) for line in open(path) if line.strip()]
    best = None
    for method in WITH_SOURCE:
        values = [r["accuracy"] for r in records if r["pair"] == pair and r["method"] == method]
        if len(values) >= 3 and (best is None or np.mean(values) > best[1]):
            best = (method, float(np.mean(values)), float(np.std(values)), len(values))
    return best


def run_pair(pair, args, lite, results):
    epochs = 1 if args.quick else da.SETTINGS[pair]["epochs"]
    for seed in range(args.seeds):
        todo = [m for m in args.methods if not results.done(pair, seed, m)]
        if not todo:
            continue
        data = da.load_pair(pair, seed, args.quick)
        if pair == "fashion_lite0":
            data = {k: (lite(v[0]), v[1]) for k, v in data.items()}
        (xs, ys), (x_test, y_test) = data["source"], data["test"]
        sizes = f"{len(xs)} source, {len(data['target'][0])} unlabelled target, {len(x_test)} test"
        keras.utils.set_random_seed(seed)
        start = time.perf_counter()
        source = da.fit_plain(xs, ys, pair, lite, epochs, da.steps_for(data, epochs), seed)
        source_wall = time.perf_counter() - start
        for method in todo:
            keras.utils.set_random_seed(seed)
            start = time.perf_counter()
            model, collapsed = run_method(method, source, data, epochs, seed)
            wall = time.perf_counter() - start if method != "source_only" else source_wall
            record = {"pair": pair, "seed": seed, "epochs": epochs, "sizes": sizes, "method": method}
            record.update(accuracy=accuracy(model, x_test, y_test), wall=wall)
            if collapsed is not None:
                record["collapse_warning"] = bool(collapsed)
            results.add(**record)


def main():
    args = parse_args()
    print(da.machine(), flush=True)
    results = da.Results(args.results)
    if args.report and not args.results:
        raise ValueError("`--report` prints the table of a `--results` file; pass --results FILE.")
    lite = da.LiteTrunk() if "fashion_lite0" in args.pairs and not args.report else None
    start = time.perf_counter()
    if not args.report:
        for pair in args.pairs:
            run_pair(pair, args, lite, results)
    seeds = list(range(args.seeds))
    print(
        f"\nTarget test accuracy, mean ± std over seeds {seeds}; {time.perf_counter() - start:.0f} s this run"
    )
    print("| method | " + " | ".join(args.pairs) + " |")
    print("|---|" + "---|" * len(args.pairs))
    for method in args.methods:
        cells = []
        for pair in args.pairs:
            cell = da.mean_std(results.values(pair, method, seeds=seeds), len(seeds))
            flags = results.values(pair, method, key="collapse_warning", seeds=seeds)
            if any(flags):
                cell += f" ({sum(flags)} collapse warning{'s' if sum(flags) > 1 else ''})"
            cells.append(cell)
        print(f"| {method} | " + " | ".join(cells) + " |")
    cells = []
    for pair in args.pairs:
        best = best_with_source(pair)
        cells.append(f"{best[1]:.3f} ± {best[2]:.3f} ({best[0]})" if best else "n/a")
    print("| best with source data (da_benchmark.jsonl) | " + " | ".join(cells) + " |")
    for pair in args.pairs:
        sizes = next((r["sizes"] for r in results.records if r["pair"] == pair and "sizes" in r), "")
        walls = {
            m: np.mean(results.values(pair, m, key="wall", seeds=seeds))
            for m in args.methods
            if results.values(pair, m, key="wall", seeds=seeds)
        }
        print(f"- {pair}: {sizes}; mean wall s: " + ", ".join(f"{m} {w:.0f}" for m, w in walls.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
