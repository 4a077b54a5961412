"""Every case of the bad-input sweep (tests/bad_inputs.py) must be *clear*: an error, or a documented
warning, that names the argument. numpy scalars must be accepted wherever Python numbers are.

``KNOWN_DEFECTS`` lists the cases still cryptic or silent, each with the verdict and the first line
of what it raises now; the test asserts that each one still behaves exactly so (a strict expected
failure): when one is fixed, or its message changes, the test fails until the entry is removed or
updated, so the list cannot go stale.
"""

import pytest

from tests.bad_inputs import VALID_NUMPY_SCALARS, cases, classify

CASES = cases()

MIN_CASES = 171
"""The outside sweep of the reliability issue tried 171 bad inputs; ours covers at least as many."""

KNOWN_DEFECTS: dict[str, tuple[str, str]] = {}


def test_the_sweep_covers_at_least_the_outside_sweep():
    names = [c.name for c in CASES]
    assert len(CASES) >= MIN_CASES, f"{len(CASES)} cases; the issue's outside sweep tried {MIN_CASES}"
    assert len(set(names)) == len(names), "case names must be unique (they are the test ids)"
    assert set(KNOWN_DEFECTS) <= set(names), set(KNOWN_DEFECTS) - set(names)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_clear(case):
    verdict, what = classify(case)
    if case.name in KNOWN_DEFECTS:
        assert (verdict, what) == KNOWN_DEFECTS[case.name], (
            f"{case.name}: known defect changed or fixed (now {verdict}: {what}); update KNOWN_DEFECTS"
        )
        return
    assert verdict == "clear", f"{case.name}: {verdict}: {what}"


@pytest.mark.parametrize("name, call", VALID_NUMPY_SCALARS, ids=[n for n, _ in VALID_NUMPY_SCALARS])
def test_numpy_scalars_are_accepted(name, call):
    call()
