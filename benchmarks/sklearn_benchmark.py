"""Benchmark the scikit-learn door: FeatureExtractor vs model.predict, cached vs uncached GridSearchCV.

Prints, on the same backbone and images:
1. FeatureExtractor (one cached compiled function) images/s vs ``backbone.predict`` images/s.
2. Wall time of GridSearchCV over a logistic-regression head with the feature cache on vs off.

Usage:
    python benchmarks/sklearn_benchmark.py [--backbone efficientnet_lite0] [--weights imagenet]
        [--size 96] [--images 256] [--grid-images 300]
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--weights", default="imagenet", help="'imagenet' or 'none'")
    parser.add_argument("--size", type=int, default=96, help="input side the backbone runs at")
    parser.add_argument("--images", type=int, default=256, help="images for the throughput test")
    parser.add_argument("--grid-images", type=int, default=300, help="images for the GridSearchCV test")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    weights = None if args.weights.lower() == "none" else args.weights

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from keras_transfer.datasets import load_fashion_mnist
    from keras_transfer.sklearn import FeatureExtractor, clear_feature_cache, feature_cache_info

    x, y = load_fashion_mnist("train", source="subset")
    x = x[..., None]  # (N, 28, 28, 1): model.predict needs the channel axis too
    shape = (args.size, args.size, 3)
    print(f"backbone={args.backbone} weights={weights} input_shape={shape} batch_size={args.batch_size}")

    # 1. throughput: same backbone object, same images, both warmed up (traced) first.
    imgs = x[: args.images]
    fe = FeatureExtractor(backbone=args.backbone, weights=weights, input_shape=shape,
                          batch_size=args.batch_size, cache=False, verbose=0).fit(imgs[:2])
    model = fe.backbone_
    fe.transform(imgs[: args.batch_size])
    fe.transform(imgs[: args.batch_size + 1])  # also trace nothing new for a short last batch
    model.predict(imgs[: args.batch_size].astype("float32"), batch_size=args.batch_size, verbose=0)
    t = time.perf_counter()
    feats = fe.transform(imgs)
    fe_s = time.perf_counter() - t
    t = time.perf_counter()
    ref = model.predict(imgs.astype("float32"), batch_size=args.batch_size, verbose=0)
    pred_s = time.perf_counter() - t
    assert np.allclose(feats, ref, rtol=1e-3, atol=1e-4), "FeatureExtractor and predict disagree"
    print(f"FeatureExtractor.transform: {len(imgs) / fe_s:8.1f} images/s ({fe_s:.2f} s)")
    print(f"backbone.predict:           {len(imgs) / pred_s:8.1f} images/s ({pred_s:.2f} s)")
    print(f"ratio FeatureExtractor / predict: {pred_s / fe_s:.2f}x")

    # 2. GridSearchCV over the head: 4 values of C x 3 folds (+ refit).
    gx, gy = x[: args.grid_images], y[: args.grid_images]
    times = {}
    for cache in (False, True):
        clear_feature_cache()
        pipe = Pipeline([
            ("features", FeatureExtractor(backbone=args.backbone, weights=weights, input_shape=shape,
                                          batch_size=args.batch_size, cache=cache, verbose=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ])
        t = time.perf_counter()
        search = GridSearchCV(pipe, {"clf__C": [0.01, 0.1, 1.0, 10.0]}, cv=3).fit(gx, gy)
        times[cache] = time.perf_counter() - t
        info = feature_cache_info()
        print(f"GridSearchCV cache={cache!s:<5}: {times[cache]:7.2f} s  best C={search.best_params_['clf__C']} "
              f"score={search.best_score_:.3f}  cache hits={info['hits']} misses={info['misses']}")
    print(f"ratio uncached / cached GridSearchCV: {times[False] / times[True]:.2f}x")


if __name__ == "__main__":
    main()
