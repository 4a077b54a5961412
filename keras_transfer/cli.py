"""The `keras-transfer` command line: `keras-transfer demo [--adaptation]`, `keras-transfer backbones`.

TensorFlow's C++ start-up log lines are hidden (see `keras_transfer.quiet_tf`); ``--verbose-tf``
(anywhere on the line) or ``KERAS_TRANSFER_VERBOSE_TF=1`` shows them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from keras_transfer import __version__, quiet_tf
from keras_transfer.adaptation_demo import DEFAULT_EPOCHS as ADAPTATION_EPOCHS

# The demo's label budgets and test-set size, in full and with --quick. The quick run is the full
# demo's first row (100 labels, same image size, epochs and learning rates) on fewer test images,
# so it tells the same story: features ~ fine-tuned > from scratch.
DEMO_LABELS = [100, 1000]
DEMO_TEST_SIZE = 1000
QUICK_LABELS = [100]
QUICK_TEST_SIZE = 200
DEMO_IMAGE_SIZE = 96
# "auto": TransferClassifier.fine_tune's recipe (probe head, warm-up + cosine fine-tuning, keep-better
# guard on a validation split); None: every block group trains (UnfreezeAll).
DEMO_EPOCHS = "auto"
DEMO_UNFREEZE = None
# Options of the transfer demo only: `demo --adaptation` refuses them (their defaults are None so
# that an option given on the command line can be told from one left out).
TRANSFER_ONLY = (
    "labels",
    "test_size",
    "image_size",
    "scratch_epochs",
    "scratch_labels",
    "unfreeze",
    "backbone",
)
ADAPTATION_HELP = (
    "run only the domain adaptation part: MNIST -> MNIST-M (offline digits), source only vs AdaBN vs "
    "DANN + AdaBN on the DANN paper's LeNet, plus the target oracle (trained on target labels: an "
    "upper bound); prints target test accuracy and the gain over source only, and writes "
    "adaptation_results.csv, adaptation_results.png and dann.keras to --output (results and run "
    "time measured: benchmarks/README.md, 'Adaptation demo'). Uses "
    "--output, --epochs, --seed, --quick, --overwrite, --verbose; the other options are refused"
)


# 128 + SIGPIPE (13): the status a shell reports for a Unix tool stopped by a closed pipe.
SIGPIPE_EXIT_CODE = 141


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `keras-transfer` command (what `main` parses).

    Example:
        >>> from keras_transfer.cli import build_parser
        >>> build_parser().parse_args(["backbones", "vgg*"]).pattern
        'vgg*'
    """
    # --verbose-tf is accepted before and after the subcommand; SUPPRESS keeps a subcommand's
    # unset flag from overwriting one given before it.
    tf_logs = argparse.ArgumentParser(add_help=False)
    tf_logs.add_argument(
        "--verbose-tf",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show TensorFlow's C++ log lines (oneDNN, CUDA, CPU instructions), hidden by default; "
        "the same as KERAS_TRANSFER_VERBOSE_TF=1",
    )
    parser = argparse.ArgumentParser(
        prog="keras-transfer",
        description="Transfer learning and domain adaptation with Keras 3.",
        parents=[tf_logs],
    )
    parser.add_argument("--version", action="version", version=f"keras-transfer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        parents=[tf_logs],
        help="run the main job end to end, offline, on shipped data",
        description=(
            "Load shipped Fashion-MNIST; with the embedded pretrained EfficientNet-Lite0, train a "
            "head on frozen features and fine-tune every block with a trainability policy, at "
            "each label budget; train the same architecture from scratch (at the smallest budget "
            "unless --scratch-labels says otherwise); print an accuracy table; "
            "save two plots (PNG), the table (CSV) and the fine-tuned model (.keras) to --output. "
            "With --adaptation, run the domain adaptation part instead (MNIST -> MNIST-M)."
        ),
    )
    demo.add_argument(
        "--output",
        default="demo_output",
        help="folder for results.csv, results.png, fine_tuning_history.png and fine_tuned.keras "
        "(with --adaptation: adaptation_results.csv, adaptation_results.png and dann.keras) "
        "(default: %(default)s)",
    )
    demo.add_argument("--adaptation", action="store_true", help=ADAPTATION_HELP)
    demo.add_argument(
        "--labels",
        type=int,
        nargs="+",
        default=None,
        help=f"labelled training set sizes (default: {' '.join(map(str, DEMO_LABELS))}; "
        f"with --quick: {' '.join(map(str, QUICK_LABELS))})",
    )
    demo.add_argument(
        "--test-size",
        type=int,
        default=None,
        help=f"number of test images (default: {DEMO_TEST_SIZE}; with --quick: {QUICK_TEST_SIZE})",
    )
    demo.add_argument(
        "--image-size",
        type=int,
        default=None,
        help=f"side the 28x28 images are resized to inside the backbone (default: {DEMO_IMAGE_SIZE})",
    )
    demo.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs of each fine-tuning phase (default: fine_tune's recipe: the probe as the head, then 10 "
        "epochs of warm-up + cosine, the probe kept unless fine-tuning beats it on a validation split); "
        "with --adaptation, epochs of "
        f"each training (default: {ADAPTATION_EPOCHS}; 1 with --quick)",
    )
    demo.add_argument(
        "--scratch-epochs",
        type=int,
        default=None,
        help="epochs of training from scratch (default: to convergence, early stopping on a validation "
        "split; with --epochs: twice --epochs, as many passes as fine-tuning)",
    )
    demo.add_argument(
        "--scratch-labels",
        type=int,
        nargs="*",
        default=None,
        help="label budgets that also train the network from scratch (default: the smallest budget "
        "only; to convergence at 1,000 labels this alone takes about 4-5 minutes on 2 cores); "
        "'--scratch-labels 100 1000' for the full table, '--scratch-labels' with no value for none",
    )
    demo.add_argument(
        "--unfreeze",
        type=int,
        default=None,
        help="top blocks unfrozen in the fine-tuning phase (default: every block, UnfreezeAll)",
    )
    demo.add_argument(
        "--backbone",
        default=None,
        help="registry name of the backbone (default: keras_transfer.backbones.DEFAULT_BACKBONE, "
        "the embedded pretrained EfficientNet-Lite0)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    demo.add_argument(
        "--quick",
        action="store_true",
        help=f"check that everything works: the full demo's first row only ({QUICK_LABELS[0]} labels, "
        f"{QUICK_TEST_SIZE} test images; about 3 minutes on 2 cores); with --adaptation, "
        "100 images per set and 1 epoch (seconds; its accuracies mean nothing)",
    )
    demo.add_argument(
        "--overwrite",
        action="store_true",
        help="replace results already in --output (otherwise the demo refuses)",
    )
    demo.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=[0, 1, 2],
        help="0 silent, 1 progress bars (one line per epoch when stdout is not a terminal), "
        "2 one line per epoch (default: %(default)s)",
    )
    lst = sub.add_parser(
        "backbones",
        parents=[tf_logs],
        help="list registered backbones",
        description="List registered backbone names.",
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

    Output into a pipe that closes early (``keras-transfer backbones | head -1``) ends quietly with
    exit code 141 (128 + SIGPIPE, what a shell reports for a Unix tool stopped by the closed
    pipe), without a BrokenPipeError traceback.
    """
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
    except BrokenPipeError:
        # The reader went away. Point stdout at /dev/null so that the interpreter's final flush
        # of what is still buffered does not raise (and print) the error again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return SIGPIPE_EXIT_CODE
    return code


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "verbose_tf", False):
        quiet_tf.uninstall()  # before anything imports TensorFlow
    if args.command == "backbones":
        from keras_transfer.backbones import list_backbones

        for name in list_backbones(args.pattern):
            print(name)
        return 0
    if args.adaptation:
        given = [f"--{name.replace('_', '-')}" for name in TRANSFER_ONLY if getattr(args, name) is not None]
        if given:
            parser.error(
                f"demo --adaptation does not take {', '.join(given)} (options of the transfer demo); "
                "it takes --output, --epochs, --seed, --quick, --overwrite and --verbose."
            )
        return _run_adaptation(args)
    from keras_transfer.demo import run_demo

    if args.labels is None:
        args.labels = QUICK_LABELS if args.quick else DEMO_LABELS
    if args.test_size is None:
        args.test_size = QUICK_TEST_SIZE if args.quick else DEMO_TEST_SIZE
    args.image_size = DEMO_IMAGE_SIZE if args.image_size is None else args.image_size
    args.epochs = DEMO_EPOCHS if args.epochs is None else args.epochs
    args.unfreeze = DEMO_UNFREEZE if args.unfreeze is None else args.unfreeze
    return _run_guarded(
        "demo",
        args,
        lambda: run_demo(
            output=args.output,
            labels=args.labels,
            test_size=args.test_size,
            image_size=args.image_size,
            epochs=args.epochs,
            unfreeze=args.unfreeze,
            scratch_epochs=args.scratch_epochs,
            scratch_labels=args.scratch_labels,
            backbone=args.backbone,
            seed=args.seed,
            overwrite=args.overwrite,
            verbose=args.verbose,
        ),
    )


def _run_guarded(label: str, args, run) -> int:
    """Run a demo; a refusal to overwrite earlier results is a one-line message and exit code 2."""
    start = time.time()
    try:
        run()
    except FileExistsError as exc:
        print(f"keras-transfer {label}: {exc}", file=sys.stderr)
        return 2
    _finished(args, start)
    return 0


def _run_adaptation(args) -> int:
    from keras_transfer.adaptation_demo import run_adaptation_demo

    return _run_guarded(
        "demo --adaptation",
        args,
        lambda: run_adaptation_demo(
            args.output,
            seed=args.seed,
            epochs=args.epochs,
            quick=args.quick,
            overwrite=args.overwrite,
            verbose=args.verbose,
        ),
    )


def _finished(args, start: float) -> None:
    if args.verbose:
        print(f"demo finished in {time.time() - start:.0f} s; results in {os.path.abspath(args.output)}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
