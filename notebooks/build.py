"""Build the tutorial notebooks from their jupytext scripts and execute them.

``NN_name.py`` (jupytext percent format) is the source of each tutorial; this writes the paired
``NN_name.ipynb``, executed top to bottom with nbclient so it carries real outputs (figures as PNG).

Usage::

    python notebooks/build.py            # build and execute all notebooks (a few minutes each)
    python notebooks/build.py 02 04      # only those whose name starts so
"""

import argparse
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted(HERE.glob("[0-9][0-9]_*.py"))


def build(script: Path, timeout: int = 1500) -> Path:
    """Execute ``script`` as a notebook and write it next to it as ``.ipynb``."""
    notebook = jupytext.read(script)
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(HERE)}},
    ).execute()
    print(f"{script.stem}: executed in {time.perf_counter() - start:.0f} s", flush=True)
    path = script.with_suffix(".ipynb")
    jupytext.write(notebook, path)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="build only the notebooks whose name starts so")
    args = parser.parse_args(argv)
    chosen = [s for s in SCRIPTS if not args.prefixes or s.name.startswith(tuple(args.prefixes))]
    if not chosen:
        sys.exit(f"no notebook matches {args.prefixes}; choose from {[s.stem for s in SCRIPTS]}")
    for script in chosen:
        build(script)


if __name__ == "__main__":
    main()
