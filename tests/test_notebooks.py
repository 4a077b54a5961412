"""Static checks of the committed tutorial notebooks (cheap: reads their JSON, runs nothing).

Executing them is CI's job: ``python -m pytest -q --nbmake notebooks/``.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "01_feature_extraction.ipynb",
    "02_fine_tuning.ipynb",
    "03_domain_adaptation.ipynb",
    "04_tf_hub_and_pipelines.ipynb",
]
COLAB = "https://colab.research.google.com/github/keras-transfer/keras-transfer/blob/main/notebooks/"
PRESENT = [name for name in EXPECTED if (NOTEBOOKS_DIR / name).exists()]

pytestmark = pytest.mark.notebooks


def _load(name):
    with open(NOTEBOOKS_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_at_least_four_tutorials_and_a_readme():
    assert len(PRESENT) >= 4, f"missing notebooks: {sorted(set(EXPECTED) - set(PRESENT))}"
    readme = (NOTEBOOKS_DIR / "README.md").read_text(encoding="utf-8")
    for name in PRESENT:
        assert name in readme, f"notebooks/README.md does not list {name}"


@pytest.mark.parametrize("name", PRESENT)
def test_colab_badge_points_at_this_notebook(name):
    first = _load(name)["cells"][0]
    assert first["cell_type"] == "markdown"
    text = _source(first)
    assert f"({COLAB}{name})" in text, "first cell must carry an 'Open in Colab' badge for this file"
    assert "colab-badge.svg" in text


@pytest.mark.parametrize("name", PRESENT)
def test_first_code_cell_installs_the_package_on_colab(name):
    code = [c for c in _load(name)["cells"] if c["cell_type"] == "code"]
    src = _source(code[0])
    assert "'google.colab' in sys.modules" in src.replace('"', "'")
    assert "pip" in src and "install" in src
    assert "keras-transfer @ git+https://github.com/keras-transfer/keras-transfer" in src


@pytest.mark.parametrize("name", PRESENT)
def test_executed_with_figures_and_no_errors(name):
    nb = _load(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    outputs = [o for c in code for o in c.get("outputs", [])]
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors, f"{name} holds error outputs: {[e.get('ename') for e in errors]}"
    tracebacks = [
        o
        for o in outputs
        if o["output_type"] == "stream" and "Traceback (most recent call last)" in o["text"]
    ]
    assert not tracebacks, f"{name} holds a traceback in a stream output"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{name} has no embedded PNG figure: execute it with notebooks/make_notebooks.py"
    # every code cell but the Colab install cell ran, in order, in one kernel session
    counts = [c["execution_count"] for c in code[1:]]
    assert all(isinstance(n, int) for n in counts), f"{name} has unexecuted code cells"
    assert counts == sorted(counts), f"{name} was not run top to bottom"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
