"""The `keras-transfer` command line: `keras-transfer demo`, `keras-transfer backbones`."""

from __future__ import annotations

import argparse
import os
import sys
import time


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keras-transfer",
        description="Transfer learning and domain adaptation with Keras 3.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run the main job end to end, offline, on shipped data",
        description=(
            "Load shipped Fashion-MNIST; with the embedded pretrained EfficientNet-Lite0, train a "
            "head on frozen features and fine-tune the top blocks with a trainability policy, at "
            "each label budget; train the same architecture from scratch; print an accuracy table; "
            "save a plot (PNG), the table (CSV) and the fine-tuned model (.keras) to --output."
        ),
    )
    demo.add_argument(
        "--output",
        default="demo_output",
        help="folder for results.png, results.csv and the .keras model (default: %(default)s)",
    )
    demo.add_argument(
        "--labels",
        type=int,
        nargs="+",
        default=[100, 1000],
        help="labelled training set sizes (default: %(default)s)",
    )
    demo.add_argument(
        "--test-size", type=int, default=1000, help="number of test images (default: %(default)s)"
    )
    demo.add_argument(
        "--image-size",
        type=int,
        default=96,
        help="side the 28x28 images are resized to inside the backbone (default: %(default)s)",
    )
    demo.add_argument(
        "--epochs", type=int, default=3, help="epochs of each fine-tuning phase (default: %(default)s)"
    )
    demo.add_argument(
        "--scratch-epochs",
        type=int,
        default=None,
        help="epochs of training from scratch (default: twice --epochs, as many passes as fine-tuning)",
    )
    demo.add_argument(
        "--unfreeze",
        type=int,
        default=2,
        help="top blocks unfrozen in the fine-tuning phase (default: %(default)s)",
    )
    demo.add_argument(
        "--backbone",
        default="efficientnet_lite0",
        help="registry name of the backbone (default: %(default)s)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    demo.add_argument(
        "--quick",
        action="store_true",
        help="a tiny run (30 labels, 32 px, 1 epoch; about a minute) to check that everything works",
    )
    demo.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results already in --output (otherwise the demo refuses)",
    )
    demo.add_argument(
        "--verbose", type=int, default=1, choices=[0, 1, 2], help="0 silences progress (default: %(default)s)"
    )
    lst = sub.add_parser(
        "backbones", help="list registered backbones", description="List registered backbone names."
    )
    lst.add_argument(
        "pattern",
        nargs="?",
        default="*",
        help="shell-style pattern, e.g. 'efficientnet*' (default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `keras-transfer` console script.

    Example:
        >>> from keras_transfer.cli import main
        >>> main(["backbones", "vgg*"])
        vgg16
        vgg19
        0
    """
    args = _parser().parse_args(argv)
    if args.command == "backbones":
        from keras_transfer.backbones import list_backbones

        for name in list_backbones(args.pattern):
            print(name)
        return 0
    from keras_transfer.demo import run_demo

    if args.quick:
        args.labels, args.test_size, args.image_size, args.epochs, args.scratch_epochs = [30], 50, 32, 1, 1
    start = time.time()
    try:
        run_demo(
            output=args.output,
            labels=args.labels,
            test_size=args.test_size,
            image_size=args.image_size,
            epochs=args.epochs,
            unfreeze=args.unfreeze,
            scratch_epochs=args.scratch_epochs,
            backbone=args.backbone,
            seed=args.seed,
            overwrite=args.overwrite,
            verbose=args.verbose,
        )
    except FileExistsError as exc:
        print(f"keras-transfer demo: {exc}", file=sys.stderr)
        return 2
    if args.verbose:
        print(f"demo finished in {time.time() - start:.0f} s; results in {os.path.abspath(args.output)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
