"""Static checks of the committed tutorial notebooks (cheap: reads their JSON, runs nothing).

Each ``notebooks/NN_name.ipynb`` is built from its jupytext script ``NN_name.py`` by
``notebooks/build.py``. Executing them is CI's job: ``python -m pytest -q --nbmake notebooks/``.
"""

import json
import re
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "01_feature_extraction.ipynb",
    "02_fine_tuning.ipynb",
    "03_domain_adaptation.ipynb",
    "04_tf_hub_and_pipelines.ipynb",
    "05_text.ipynb",
    "06_source_free.ipynb",
]
COLAB = "https://colab.research.google.com/github/keras-transfer/keras-transfer/blob/main/notebooks/"
PRESENT = [name for name in EXPECTED if (NOTEBOOKS_DIR / name).exists()]
# TensorFlow's C++ log lines ("I0000 00:00:1796135201.661986    6251 port.cc:153] oneDNN ...")
TF_LOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\]|absl::InitializeLog", re.M)

pytestmark = pytest.mark.notebooks


def _load(name):
    with open(NOTEBOOKS_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


def _text(value):
    """A notebook's multiline string: stored either as one string or as a list of lines."""
    return "".join(value) if isinstance(value, list) else value


def _source(cell):
    return _text(cell.get("source", ""))


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
        if o["output_type"] == "stream" and "Traceback (most recent call last)" in _text(o["text"])
    ]
    assert not tracebacks, f"{name} holds a traceback in a stream output"
    # outputs are saved as users see them; `import keras_transfer` keeps TensorFlow's start-up quiet
    noise = [
        m.group(0)
        for o in outputs
        if o["output_type"] == "stream"
        for m in TF_LOG_LINE.finditer(_text(o["text"]))
    ]
    assert not noise, f"{name} shows TensorFlow C++ log lines: {noise[:3]}"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{name} has no embedded PNG figure: execute it with notebooks/build.py"
    # every code cell but the Colab install cell ran, in order, in one kernel session
    counts = [c["execution_count"] for c in code[1:]]
    assert all(isinstance(n, int) for n in counts), f"{name} has unexecuted code cells"
    assert counts == sorted(counts), f"{name} was not run top to bottom"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", PRESENT)
def test_notebook_is_in_sync_with_its_script(name):
    script = NOTEBOOKS_DIR / name.replace(".ipynb", ".py")
    assert script.exists(), f"{name} has no jupytext script {script.name} (its source)"
    want = [(c.cell_type, c.source) for c in jupytext.read(script).cells]
    have = [(c.cell_type, c.source) for c in jupytext.read(NOTEBOOKS_DIR / name).cells]
    stale = [i for i, (w, h) in enumerate(zip(want, have)) if w != h]
    fix = f"run `python notebooks/build.py {name[:2]}`"
    assert len(want) == len(have), f"{name} has {len(have)} cells, {script.name} {len(want)}: {fix}"
    assert not stale, f"{name} differs from {script.name} in cells {stale}: {fix}"
