"""Benchmark the scikit-learn door: FeatureExtractor vs model.predict, cached vs uncached GridSearchCV.

Prints, on the same backbone and images:
1. FeatureExtractor (one cached compiled function) images/s vs ``backbone.predict`` images/s.
2. Wall time of GridSearchCV (3 folds x 4 head settings + refit) over
   FeatureExtractor -> StandardScaler -> head, with the feature cache on vs off. The ratio depends
   on how much of the search is head fitting: ``--head ridge`` shows it with a cheap head.

Usage:
    python benchmarks/sklearn_benchmark.py [--backbone efficientnet_lite0] [--weights imagenet]
        [--size 96] [--images 256] [--grid-images 300] [--repeats 3] [--head logreg|ridge]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--weights", default="imagenet", help="'imagenet' or 'none'")
    parser.add_argument("--size", type=int, default=96, help="input side the backbone runs at")
    parser.add_argument("--images", type=int, default=256, help="images for the throughput test")
    parser.add_argument("--grid-images", type=int, default=300, help="images for the GridSearchCV test")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each extractor (median)")
    parser.add_argument(
        "--head",
        choices=["logreg", "ridge"],
        default="logreg",
        help="head of the searched pipeline (after StandardScaler): logistic regression "
        "(C grid) or a ridge classifier (alpha grid), a cheap head",
    )
    args = parser.parse_args()
    weights = None if args.weights.lower() == "none" else args.weights

    import platform

    import keras
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from keras_transfer.datasets import load_fashion_mnist
    from keras_transfer.sklearn import FeatureExtractor, clear_feature_cache, feature_cache_info

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Keras {keras.__version__} on {keras.backend.backend()}"
    )
    x, y = load_fashion_mnist("train", source="subset")
    x = x[..., None]  # (N, 28, 28, 1): model.predict needs the channel axis too
    shape = (args.size, args.size, 3)
    print(f"backbone={args.backbone} weights={weights} input_shape={shape} batch_size={args.batch_size}")

    # 1. throughput: same backbone object, same images, both warmed up (traced) first.
    imgs = x[: args.images]
    fe = FeatureExtractor(
        backbone=args.backbone,
        weights=weights,
        input_shape=shape,
        batch_size=args.batch_size,
        cache=False,
        verbose=0,
    ).fit(imgs[:2])
    model = fe.backbone_
    fe.transform(imgs[: args.batch_size])
    fe.transform(imgs[: args.batch_size + 1])  # also trace nothing new for a short last batch
    model.predict(imgs[: args.batch_size].astype("float32"), batch_size=args.batch_size, verbose=0)
    fe_times, pred_times = [], []
    for _ in range(args.repeats):  # alternate, so drifting load on a shared machine hits both
        t = time.perf_counter()
        feats = fe.transform(imgs)
        fe_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = model.predict(imgs.astype("float32"), batch_size=args.batch_size, verbose=0)
        pred_times.append(time.perf_counter() - t)
    fe_s, pred_s = statistics.median(fe_times), statistics.median(pred_times)
    assert np.allclose(feats, ref, rtol=1e-3, atol=1e-4), "FeatureExtractor and predict disagree"
    print(
        f"FeatureExtractor.transform: {len(imgs) / fe_s:8.1f} images/s (median of {args.repeats}: {fe_s:.2f} s)"
    )
    print(
        f"backbone.predict:           {len(imgs) / pred_s:8.1f} images/s (median of {args.repeats}: {pred_s:.2f} s)"
    )
    print(f"ratio FeatureExtractor / predict: {pred_s / fe_s:.2f}x")

    # 2. GridSearchCV over the head: 4 values of C x 3 folds (+ refit).
    gx, gy = x[: args.grid_images], y[: args.grid_images]
    times = {}
    for cache in (False, True):
        clear_feature_cache()
        head, grid = (
            (LogisticRegression(max_iter=500), {"clf__C": [0.01, 0.1, 1.0, 10.0]})
            if args.head == "logreg"
            else (RidgeClassifier(), {"clf__alpha": [0.1, 1.0, 10.0, 100.0]})
        )
        pipe = Pipeline(
            [
                (
                    "features",
                    FeatureExtractor(
                        backbone=args.backbone,
                        weights=weights,
                        input_shape=shape,
                        batch_size=args.batch_size,
                        cache=cache,
                        verbose=0,
                    ),
                ),
                ("scale", StandardScaler()),
                ("clf", head),
            ]
        )
        t = time.perf_counter()
        search = GridSearchCV(pipe, grid, cv=3).fit(gx, gy)
        times[cache] = time.perf_counter() - t
        info = feature_cache_info()
        print(
            f"GridSearchCV cache={cache!s:<5}: {times[cache]:7.2f} s  best {search.best_params_} "
            f"score={search.best_score_:.3f}  cache hits={info['hits']} misses={info['misses']}"
        )
    print(f"ratio uncached / cached GridSearchCV: {times[False] / times[True]:.2f}x")


if __name__ == "__main__":
    main()
