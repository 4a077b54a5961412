import numpy as np
import pytest

from keras_transfer.datasets import FORTUNES_TOPICS, list_fortune_topics, load_fortunes
from keras_transfer.datasets.fortunes import FORTUNES_DIR_ENV, in_test_split, parse_fortunes

installed = pytest.mark.skipif(
    not set(FORTUNES_TOPICS) <= set(list_fortune_topics()),
    reason="Debian's fortunes package is not installed (apt-get install fortunes)",
)


def _write_topic(folder, name, entries):
    (folder / name).write_text("".join(f"{e}\n%\n" for e in entries))
    (folder / f"{name}.dat").write_bytes(b"")  # strfile's index: marks a topic file


def test_parse_fortunes_separators_overstrike_and_whitespace():
    text = "Line one\n\tline two\n\t\t-- Someone\n%\n\n%\nU\x08Und\x08der\x08rlined\n% \nlast"
    assert parse_fortunes(text) == ["Line one line two -- Someone", "Underlined", "last"]


def test_load_fortunes_from_a_folder_labels_split_and_duplicates(tmp_path, monkeypatch):
    monkeypatch.setenv(FORTUNES_DIR_ENV, str(tmp_path))
    food = [f"I like dish number {i}." for i in range(40)] + ["Shared entry."]
    law = [f"Statute {i} says no." for i in range(40)] + ["Shared entry."]
    _write_topic(tmp_path, "food", food)
    _write_topic(tmp_path, "law", law)
    assert list_fortune_topics() == ["food", "law"]
    texts, labels = load_fortunes("all", topics=("law", "food"))
    assert len(texts) == 80 and "Shared entry." not in set(texts)  # ambiguous: in both topics
    assert list(labels[:40]) == ["law"] * 40 and list(labels[40:]) == ["food"] * 40
    assert texts.dtype == object and isinstance(texts[0], str)
    train, y_train = load_fortunes("train", topics=("food", "law"))
    test, y_test = load_fortunes("test", topics=("food", "law"))
    assert len(train) + len(test) == 80 and not set(train) & set(test)
    assert all(in_test_split(t) for t in test) and not any(in_test_split(t) for t in train)
    assert 8 <= len(test) <= 32  # about a quarter, by hash
    a = load_fortunes("train", topics=("food", "law"), num_per_class=5, seed=3)
    b = load_fortunes("train", topics=("food", "law"), num_per_class=5, seed=3)
    c = load_fortunes("train", topics=("food", "law"), num_per_class=5, seed=4)
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])
    assert sorted(np.unique(a[1], return_counts=True)[1]) == [5, 5]


def test_load_fortunes_errors_name_the_argument_and_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv(FORTUNES_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"apt-get install fortunes.*") as info:
        load_fortunes()
    assert str(tmp_path / "nowhere") in str(info.value)
    assert list_fortune_topics() == []
    monkeypatch.setenv(FORTUNES_DIR_ENV, str(tmp_path))
    _write_topic(tmp_path, "food", ["a", "b", "c"])
    with pytest.raises(ValueError, match="`topics` holds 'cooking'.*installed topics: food"):
        load_fortunes(topics=("food", "cooking"))
    with pytest.raises(ValueError, match="`num_per_class` is too large.*'food'"):
        load_fortunes("all", topics="food", num_per_class=4)
    with pytest.raises(ValueError, match="`split` must be one of"):
        load_fortunes("validation")
    with pytest.raises(ValueError, match="`topics` must be distinct"):
        load_fortunes(topics=("food", "food"))
    with pytest.raises(TypeError, match="`topics` must be a sequence"):
        load_fortunes(topics=3)


@installed
def test_load_fortunes_debian_files_sizes_and_fixed_split():
    x_train, y_train = load_fortunes("train")
    x_test, y_test = load_fortunes("test")
    # Debian 12's fortunes 1:1.99.1-7.3: 4,372 unambiguous entries in the ten default topics
    assert 4000 < len(x_train) + len(x_test) < 5000
    assert set(y_train) == set(y_test) == set(FORTUNES_TOPICS)
    assert 0.2 < len(x_test) / (len(x_train) + len(x_test)) < 0.3
    assert not set(x_train) & set(x_test)
    assert min(np.unique(y_train, return_counts=True)[1]) >= 100  # 100 labels per topic fit
    x, y = load_fortunes("train", num_per_class=10, seed=0)
    assert len(x) == 100 and all(len(t) > 0 for t in x)
