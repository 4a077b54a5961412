"""The house rules that tools check: imports flow one way (import-linter contracts in
pyproject.toml) and the code is ruff-clean and ruff-formatted."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is not installed")
def test_import_contracts_are_kept():
    result = _run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_ruff_lint_and_format_pass():
    pytest.importorskip("ruff")
    lint = _run(sys.executable, "-m", "ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout[-4000:]
    fmt = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout[-4000:]


def test_layer_contract_lists_every_subpackage():
    """A new top-level module must be placed in the layer order, or it escapes the contract."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    listed = {name.strip() for layer in layers for name in layer.split("|")}
    package = ROOT / "keras_transfer"
    present = {
        f"keras_transfer.{p.stem if p.is_file() else p.name}"
        for p in package.iterdir()
        if (p.is_file() and p.suffix == ".py" and p.name != "__init__.py")
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert present - listed == set(), f"modules missing from the layer contract: {sorted(present - listed)}"


# Private modules that a test may import, each with its reason. Everything else in tests/, and
# everything in notebooks/ and benchmarks/, goes through public names (a notebook or benchmark is
# user code: what it needs is part of the API). Do not add to this list to make a new test pass;
# give the thing a public name instead.
TESTS_OF_PRIVATE_MODULES = {
    "tests/test_validation.py": "unit tests of keras_transfer._validation, the argument checks behind every error message",
    "tests/policies/_helpers.py": "block grouping of backbones (policies._groups) checked against hand-made expectations",
    "tests/policies/test_discriminative_lr.py": "learning rates per group need the group's weights (policies._groups)",
    "tests/policies/test_freeze_steps.py": "freezing is checked group by group (policies._groups)",
    "tests/datasets/test_mnist.py": "the packaged-data reader's checksum and cache (datasets._packaged)",
    "tests/datasets/test_m_domain.py": "the packaged-data reader's checksum and cache (datasets._packaged)",
    "tests/sklearn/test_auto_rule.py": "unit tests of sklearn._auto itself (published as sklearn.auto_selection)",
    "tests/sklearn/test_feature_cache.py": "the on-disk feature cache's file format and locking (sklearn._disk_cache)",
    "tests/backbones/test_efficientnet_lite.py": "TF-style 'same' padding of the Lite ports (_same_pad) against TensorFlow's",
    "tests/models/test_two_domain.py": "the two-domain input preparation (models._two_domain_data) row by row",
    "tests/models/test_multi_worker_logs.py": "forces the multi-worker switch (models._multi_worker) on in one process",
    "tests/models/test_fine_tune_recipe.py": "rigs the recipe's validation scores (models._fine_tune_recipe) to reach the refit of a winning fine-tuned probe deterministically",
    "tests/models/test_sample_weight.py": "sample weights travelling with their rows when a domain is cycled",
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_imports(path: Path):
    """``(line, what)`` for every import of a private keras_transfer module or private name in ``path``."""
    import ast

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "keras_transfer" and any(map(_is_private, parts[1:])):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] != "keras_transfer":
                continue
            if any(map(_is_private, parts[1:])):
                yield node.lineno, node.module
            for alias in node.names:
                if _is_private(alias.name):
                    yield node.lineno, f"{node.module}.{alias.name}"


def _private_names_across_modules(path: Path):
    """Inside the package: ``from keras_transfer.x import _name`` where ``_name`` is not a submodule
    of ``x`` (a private function or constant of another module). Private *modules* are checked by
    import-linter's private_modules contract."""
    import ast

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("keras_transfer")
        ):
            folder = ROOT.joinpath(*node.module.split("."))
            for alias in node.names:
                submodule = (folder / f"{alias.name}.py").exists() or (folder / alias.name).is_dir()
                if _is_private(alias.name) and not submodule:
                    yield node.lineno, f"{node.module}.{alias.name}"


def test_no_private_names_are_imported_across_modules():
    """No private reach-through: tests, notebooks and benchmarks use public names (tests of a
    private module excepted, each listed with its reason), and no module of the package imports
    another module's underscore functions or constants."""
    found = []
    for folder in ("tests", "notebooks", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in TESTS_OF_PRIVATE_MODULES or relative == "tests/test_architecture.py":
                continue
            found += [f"{relative}:{line}: {what}" for line, what in _private_imports(path)]
    for path in sorted((ROOT / "keras_transfer").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        found += [f"{relative}:{line}: {what}" for line, what in _private_names_across_modules(path)]
    assert found == [], "private names imported across modules (make them public):\n" + "\n".join(found)


def test_the_private_import_check_sees_reach_through(tmp_path):
    """The check above is not vacuous: it flags each form of reach-through."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import keras_transfer._quiet_tf\n"
        "from keras_transfer.sklearn import _auto\n"
        "from keras_transfer.models._two_domain_data import prepare_arrays\n"
        "from keras_transfer.demo import _accuracy, run_demo\n"
        "from keras_transfer.models import DANN\n"
    )
    assert [what for _, what in _private_imports(sample)] == [
        "keras_transfer._quiet_tf",
        "keras_transfer.sklearn._auto",
        "keras_transfer.models._two_domain_data",
        "keras_transfer.demo._accuracy",
    ]
    assert [what for _, what in _private_names_across_modules(sample)] == ["keras_transfer.demo._accuracy"]
