"""Every docstring example in the package runs and prints what it shows (doctest)."""

import doctest
import importlib
import pkgutil

import pytest

import keras_transfer


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for info in pkgutil.walk_packages(keras_transfer.__path__, "keras_transfer."):
        module = importlib.import_module(info.name)
        for test in finder.find(module, module.__name__):
            if test.examples:  # the finder keeps only objects defined in this module
                yield pytest.param(test, id=test.name)


@pytest.mark.parametrize("test", list(_examples()))
def test_docstring_example_runs(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda text: pytest.fail(text, pytrace=False))
