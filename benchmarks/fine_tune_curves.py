"""Per-epoch curves of one fine-tuning run: how the learning rate and the schedule length decide it.

Shipped Fashion-MNIST (``source="subset"``), the embedded pretrained EfficientNet-Lite0 at the
demo's 96 px, ``--labels`` balanced labels split 80/20 (stratified, the split of
``fine_tune_recipe_study.py``). The head is the linear probe (logistic regression on the frozen
features of the 80%, `TransferClassifier.fine_tune` with ``epochs=0``); then every block trains
(`UnfreezeAll`, BatchNorm frozen) with Adam, one epoch of linear warm-up to ``--lr`` and cosine
decay to zero over ``--epochs``, optionally on shifted and flipped images (``--aug``). After
each epoch it records the accuracy and loss on the 20% split and, for the record only, on the
demo's 1,000-image test subset (never used to choose). At the end it also fits the probe again on
the fine-tuned features: on the 80% (scored on the split) and on every label (scored on the test
subset). One JSON line per run is appended to ``--out``.

    nice -n 10 python benchmarks/fine_tune_curves.py --lr 3e-4 --epochs 12 --seed 0
    python benchmarks/fine_tune_curves.py --report benchmarks/results/fine_tune_curves.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--aug", action="store_true", help="random 2-px shifts and horizontal flips")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--out", default="benchmarks/results/fine_tune_curves.jsonl")
    parser.add_argument("--report", default=None, help="print a results file's summary and exit")
    args = parser.parse_args(argv)
    if args.report:
        return report(args.report)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from fine_tune_recipe_study import augment_batches, predict, split
    from sklearn.linear_model import LogisticRegression

    from keras_transfer.backbones import get_backbone
    from keras_transfer.datasets import load_fashion_mnist
    from keras_transfer.models import TransferClassifier
    from keras_transfer.policies import UnfreezeAll

    keras.utils.set_random_seed(args.seed)
    x_test, y_test = load_fashion_mnist("test", source="subset", num_per_class=100, seed=0)
    x, y = load_fashion_mnist("train", source="subset", num_per_class=args.labels // 10, seed=args.seed)
    x_test, x = x_test[..., None], x[..., None]
    x_fit, y_fit, x_val, y_val = split(x, y, args.seed)
    start = time.perf_counter()
    shape = (args.image_size, args.image_size, 3)
    model = TransferClassifier(
        get_backbone("efficientnet_lite0", input_shape=shape, weights="imagenet"),
        10,
        policy=UnfreezeAll(),
        dropout=0.2,
    )
    frozen = model.backbone
    probe = LogisticRegression(C=1.0, max_iter=2000).fit(predict(frozen, x), y)
    rec = {"args": vars(args), "probe_test": float(probe.score(predict(frozen, x_test), y_test))}
    model.fine_tune(x_fit, y_fit, epochs=0, validation_data=(x_val, y_val), batch_size=32, verbose=0)
    rec["head_val"] = float(np.mean(predict(model, x_val).argmax(-1) == y_val))
    rec["head_test"] = float(np.mean(predict(model, x_test).argmax(-1) == y_test))
    model.set_policy(UnfreezeAll())
    steps = int(np.ceil(len(x_fit) / 32))
    schedule = keras.optimizers.schedules.CosineDecay(
        args.lr / (steps + 1),
        decay_steps=steps * (args.epochs - 1),
        warmup_target=args.lr,
        warmup_steps=steps,
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    curve = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            test = float(np.mean(predict(model, x_test).argmax(-1) == y_test))
            curve.append(
                {
                    "epoch": epoch + 1,
                    "val_accuracy": round(logs["val_accuracy"], 4),
                    "val_loss": round(logs["val_loss"], 4),
                    "test": test,
                    "seconds": round(time.perf_counter() - start),
                }
            )
            print(curve[-1], flush=True)

    data = (
        (augment_batches(x_fit, y_fit, 32, args.seed), None) if args.aug else (x_fit.astype("float32"), y_fit)
    )
    model.fit(
        *data,
        epochs=args.epochs,
        batch_size=None if args.aug else 32,
        validation_data=(x_val.astype("float32"), y_val),
        callbacks=[Record()],
        verbose=0,
    )
    rec["curve"] = curve
    tuned = model.backbone
    rec["tuned_probe_val"] = float(
        LogisticRegression(C=1.0, max_iter=2000)
        .fit(predict(tuned, x_fit), y_fit)
        .score(predict(tuned, x_val), y_val)
    )
    rec["tuned_probe_all_test"] = float(
        LogisticRegression(C=1.0, max_iter=2000)
        .fit(predict(tuned, x), y)
        .score(predict(tuned, x_test), y_test)
    )
    rec["seconds"] = round(time.perf_counter() - start)
    rec["load_avg"] = os.getloadavg()[0]
    print(json.dumps(rec), flush=True)
    with open(args.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    return 0


def report(path) -> int:
    print(
        f"{'labels':>6} {'seed':>4} {'lr':>7} {'ep':>3} {'aug':>4}  {'probe':>6} {'head v/t':>12}  "
        f"{'last v/t':>12}  {'best-v epoch t':>14}  {'re-probe v/t':>12}"
    )
    for line in open(path):
        r = json.loads(line)
        a, c = r["args"], r["curve"]
        best = max(c, key=lambda e: e["val_accuracy"])
        print(
            f"{a['labels']:>6} {a['seed']:>4} {a['lr']:>7.0e} {a['epochs']:>3} {str(a['aug'])[0]:>4}  "
            f"{r['probe_test']:>6.3f} {r['head_val']:>5.3f}/{r['head_test']:.3f}  "
            f"{c[-1]['val_accuracy']:>5.3f}/{c[-1]['test']:.3f}  {best['epoch']:>7} {best['test']:.3f}  "
            f"{r['tuned_probe_val']:>5.3f}/{r['tuned_probe_all_test']:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
