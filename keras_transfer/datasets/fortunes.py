"""Labelled quotations by topic from Debian's ``fortunes`` package: real text for transfer learning.

The ``fortunes`` package (``apt-get install fortunes``; ``fortunes-min`` comes with it) installs
one plain-text file per topic under ``/usr/share/games/fortunes`` (``art``, ``computers``,
``food``, ``law``, ``love``, ``politics``, ``science``, ``sports``, ``work``, ...): quotations,
jokes and aphorisms, each entry ended by a line holding only ``%``. The topic (the file's name) is
the label. Source and licence, from ``/usr/share/doc/fortunes/copyright``: fortune-mod 1.99.1
(BSD ``fortune(6)``, Ken Arnold; Linux port by Florian LaRoche, Amy A. Lewis), "This program
falls under the BSD copyright" (Copyright (c) 1991 The Regents of the University of California;
the BSD licence with its advertising clause deleted). The quotations themselves are credited to
their authors in the entries. Nothing is shipped inside keras-transfer: the files are read where
Debian installs them (or from the folder named by ``KERAS_TRANSFER_FORTUNES_DIR``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path

import numpy as np

from keras_transfer._validation import ArgumentTypeError, check_choice, check_count, check_seed
from keras_transfer.datasets._sampling import per_class_indices

FORTUNES_DIR = "/usr/share/games/fortunes"
FORTUNES_DIR_ENV = "KERAS_TRANSFER_FORTUNES_DIR"
FORTUNES_TOPICS = (
    "art",
    "computers",
    "education",
    "food",
    "law",
    "love",
    "politics",
    "science",
    "sports",
    "work",
)
"""The default topics: ten subject files of Debian's ``fortunes`` with at least 147 entries each
(about 4,400 in all; ``love`` and ``sports`` are the smallest)."""
SPLITS = ("train", "test", "all")
TEST_BUCKETS = 4
"""An entry is in the test split when the first 8 bytes of the sha256 of its (cleaned) text, as an
integer, are divisible by ``TEST_BUCKETS``: about a quarter of every topic, decided by the text
alone (not by its position in the file), so a later version of the package keeps the split of
every entry it still holds."""
_SEPARATOR = re.compile(r"^%[ \t]*$", re.MULTILINE)
_OVERSTRIKE = re.compile(r".\x08")  # "_\bX": underlined characters of the old terminal files


def fortunes_dir() -> Path:
    """The folder read: ``$KERAS_TRANSFER_FORTUNES_DIR`` if set, else Debian's ``/usr/share/games/fortunes``."""
    return Path(os.environ.get(FORTUNES_DIR_ENV) or FORTUNES_DIR)


def list_fortune_topics() -> list[str]:
    """The topic files present in :func:`fortunes_dir` (sorted; ``[]`` when the package is missing).

    Example:
        >>> from keras_transfer.datasets import FORTUNES_TOPICS, list_fortune_topics
        >>> topics = list_fortune_topics()
        >>> topics == [] or set(FORTUNES_TOPICS) <= set(topics)
        True
    """
    folder = fortunes_dir()
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and "." not in p.name and (folder / f"{p.name}.dat").exists()
    )


def parse_fortunes(text: str) -> list[str]:
    """The entries of one fortune file's ``text``: split at lines holding only ``%``, overstruck
    characters (``"_\\bX"``) reduced to the character, runs of whitespace (line breaks and the
    attribution's tabs included) collapsed to one space, empty entries dropped.

    Example:
        >>> from keras_transfer.datasets.fortunes import parse_fortunes
        >>> parse_fortunes("Work is love made visible.\\n\\t\\t-- Gibran\\n%\\nSecond\\none.\\n%\\n")
        ['Work is love made visible. -- Gibran', 'Second one.']
    """
    entries = (" ".join(_OVERSTRIKE.sub("", part).split()) for part in _SEPARATOR.split(text))
    return [e for e in entries if e]


def in_test_split(text: str) -> bool:
    """Whether ``text`` (a cleaned entry) belongs to the fixed test split (see ``TEST_BUCKETS``)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % TEST_BUCKETS == 0


@functools.lru_cache(maxsize=64)
def _read_topic(path: str, size: int, mtime: float) -> tuple[str, ...]:
    with open(path, encoding="utf-8", errors="replace") as f:
        return tuple(parse_fortunes(f.read()))


def _missing(folder: Path, topic: str | None = None) -> FileNotFoundError:
    what = f"the topic file {folder / topic}" if topic else f"the folder {folder}"
    return FileNotFoundError(
        f"load_fortunes needs Debian's `fortunes` package, and {what} does not exist. Install it "
        f"with `apt-get install fortunes` (it puts one file per topic in {FORTUNES_DIR}), or set "
        f"{FORTUNES_DIR_ENV} to a folder holding such files."
    )


def load_fortunes(
    split: str = "train",
    topics=FORTUNES_TOPICS,
    num_per_class: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Quotations labelled by topic, read from Debian's ``fortunes`` files (BSD licence).

    Every entry of each topic file becomes one text (cleaned by
    `keras_transfer.datasets.fortunes.parse_fortunes`: whitespace collapsed, attributions such as
    ``"-- Mark Twain"`` kept); its label is the file's name. An entry found in more than one of
    the chosen topics (or twice in one) is ambiguous and left out. The split is fixed by each
    text's hash (about 25% ``"test"``, see ``TEST_BUCKETS``), the same on every machine with the
    same package version (fortune-mod 1.99.1 in Debian 12). Source and licence: the module
    docstring and README ("Text").

    Args:
        split: ``"train"``, ``"test"`` or ``"all"``.
        topics: topic file names (default ``FORTUNES_TOPICS``, ten subjects with 147 to 1,051
            entries); ``list_fortune_topics()`` lists what is installed.
        num_per_class: if given, draw this many texts of every topic (without replacement, with
            ``seed``), kept in their order; ``None`` returns the whole split.
        seed: non-negative integer seed for ``num_per_class`` sampling.

    Returns:
        ``(texts, labels)``: two 1-D numpy arrays of Python strings (``dtype=object``), ordered by
        topic (in the order of ``topics``), then as in the file.

    Raises:
        FileNotFoundError: the ``fortunes`` package (or a topic file) is missing; the message names
            the path and the ``apt-get`` command.
        ValueError: unknown ``split``, empty or repeated ``topics``, or ``num_per_class`` larger than
            a topic holds in the split.

    Example:
        >>> from keras_transfer.datasets import list_fortune_topics, load_fortunes
        >>> if list_fortune_topics():
        ...     texts, labels = load_fortunes("test", topics=("food", "law"), num_per_class=3)
        ...     print(len(texts), sorted(set(labels)), type(texts[0]).__name__)
        ... else:
        ...     print(6, ['food', 'law'], 'str')
        6 ['food', 'law'] str
    """
    check_choice(split, SPLITS, "split")
    if isinstance(topics, str):
        topics = (topics,)
    try:
        topics = tuple(topics)
    except TypeError:
        raise ArgumentTypeError(
            f"`topics` must be a sequence of topic names such as {FORTUNES_TOPICS[:3]}; received "
            f"topics={topics!r} of type {type(topics).__name__}."
        ) from None
    bad = [t for t in topics if not isinstance(t, str) or not t or "/" in t or t.startswith(".")]
    if not topics or bad or len(set(topics)) != len(topics):
        raise ValueError(
            "`topics` must be distinct topic file names (see list_fortune_topics()); received "
            f"topics={topics!r}."
        )
    num_per_class = check_count(num_per_class, "num_per_class")
    seed = check_seed(seed)
    folder = fortunes_dir()
    if not folder.is_dir():
        raise _missing(folder)
    per_topic = {}
    for topic in topics:
        path = folder / topic
        if not path.is_file():
            if list_fortune_topics():
                available = ", ".join(list_fortune_topics())
                raise ValueError(
                    f"`topics` holds {topic!r}, which is not a fortune file in {folder}; installed "
                    f"topics: {available}."
                )
            raise _missing(folder, topic)
        stat = path.stat()
        per_topic[topic] = _read_topic(str(path), stat.st_size, stat.st_mtime)
    counts: dict[str, int] = {}
    for entries in per_topic.values():
        for text in entries:
            counts[text] = counts.get(text, 0) + 1
    texts, labels = [], []
    for topic, entries in per_topic.items():
        for text in entries:
            if counts[text] == 1 and (split == "all" or in_test_split(text) == (split == "test")):
                texts.append(text)
                labels.append(topic)
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels, dtype=object)
    if num_per_class is not None:
        have = {t: int(np.sum(labels == t)) for t in topics}
        smallest = min(have, key=have.get)
        if num_per_class > have[smallest]:
            raise ValueError(
                f"`num_per_class` is too large: the {split} split of topic {smallest!r} holds "
                f"{have[smallest]} texts; received num_per_class={num_per_class}. Pass at most "
                f"{have[smallest]}, or choose other `topics`."
            )
        where = f"the {split} split of fortunes in {folder}"
        index = per_class_indices(labels, num_per_class, seed, "num_per_class", where)
        # per_class_indices sorts by index: the order of `topics`, then the file's, is kept
        texts, labels = texts[index], labels[index]
    return texts, labels
