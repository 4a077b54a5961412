"""Every case of the bad-input sweep (tests/bad_inputs.py) must be *clear*: an error, or a documented
warning, that names the argument. numpy scalars must be accepted wherever Python numbers are."""

import pytest

from tests.bad_inputs import VALID_NUMPY_SCALARS, cases, classify

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_clear(case):
    verdict, what = classify(case)
    assert verdict == "clear", f"{case.name}: {verdict}: {what}"


@pytest.mark.parametrize("name, call", VALID_NUMPY_SCALARS, ids=[n for n, _ in VALID_NUMPY_SCALARS])
def test_numpy_scalars_are_accepted(name, call):
    call()
