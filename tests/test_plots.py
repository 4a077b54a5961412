"""Plots are checked for content (axes, labels, number of series), headless."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from keras_transfer import plots


def test_plot_history_draws_train_and_val_and_marks_phase_changes():
    history = {
        "loss": [1.0, 0.8, 0.5, 0.4],
        "val_loss": [1.1, 0.9, 0.7, 0.6],
        "accuracy": [0.3, 0.5, 0.7, 0.8],
        "phase": ["head", "head", "fine-tune", "fine-tune"],
    }
    fig = plots.plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss_ax = fig.axes[0]
    solid = [line for line in loss_ax.get_lines() if line.get_linestyle() == "-"]
    assert len(solid) == 2  # train and val
    dashed = [line for line in loss_ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_xdata()[0] == pytest.approx(2.5)
    assert np.allclose(solid[0].get_ydata(), history["loss"])


def test_plot_history_rejects_missing_metrics():
    with pytest.raises(ValueError, match="are not in the history"):
        plots.plot_history({"loss": [1.0]}, metrics=("auc",))
    with pytest.raises(ValueError, match="`history` must be"):
        plots.plot_history({})


def test_plot_accuracy_vs_labels_one_line_per_method_and_log_axis():
    fig = plots.plot_accuracy_vs_labels({"a": {100: 0.5, 1000: 0.7}, "b": {100: 0.2, 1000: 0.4}}, chance=0.1)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert len(ax.get_lines()) == 3  # two methods and chance
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "chance"]


def test_plot_confusion_matrix_values_and_labels():
    fig = plots.plot_confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], class_names=["cat", "dog"])
    ax = fig.axes[0]
    image = ax.get_images()[0].get_array()
    np.testing.assert_allclose(np.asarray(image), [[0.5, 0.5], [0.0, 1.0]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    with pytest.raises(ValueError, match="`class_names` has 3 names"):
        plots.plot_confusion_matrix([0, 1], [0, 1], class_names=["a", "b", "c"])


def test_plot_domain_embeddings_before_and_after_panels():
    rng = np.random.default_rng(0)
    src, tgt = rng.normal(size=(30, 6)), rng.normal(3, 1, (30, 6))
    fig = plots.plot_domain_embeddings(src, tgt, after=(src, src + 0.01))
    assert [ax.get_title() for ax in fig.axes] == ["before adaptation (PCA)", "after adaptation (PCA)"]
    for ax in fig.axes:
        assert len(ax.collections) == 2 and len(ax.collections[0].get_offsets()) == 30


def test_plot_schedule_matches_the_function():
    fn = lambda s: 2 / (1 + math.exp(-10 * s / 50)) - 1  # noqa: E731
    fig = plots.plot_schedule({"lambda": fn}, 50)
    line = fig.axes[0].get_lines()[0]
    assert line.get_ydata()[0] == pytest.approx(0.0)
    assert line.get_ydata()[-1] == pytest.approx(fn(50))
    with pytest.raises(ValueError, match="`total_steps` must be an integer >= 1"):
        plots.plot_schedule({"x": fn}, 0)


def test_bad_arguments_name_the_argument():
    import matplotlib.pyplot as plt

    y = np.array([0, 1, 1, 0])
    f = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(TypeError, match="`total_steps` must be an integer"):
        plots.plot_schedule({"x": lambda s: 1.0}, 2.5)
    with pytest.raises(TypeError, match="`schedules` must be a dict"):
        plots.plot_schedule({"x": 1.0}, 5)
    with pytest.raises(TypeError, match="`normalize` must be True or False"):
        plots.plot_confusion_matrix(y, y, normalize="yes")
    with pytest.raises(TypeError, match="`results` must be a dict"):
        plots.plot_accuracy_vs_labels([0.5, 0.6])
    with pytest.raises(ValueError, match=r"`results\['a'\]\[10\]` must be a finite number"):
        plots.plot_accuracy_vs_labels({"a": {10: float("nan")}})
    with pytest.raises(ValueError, match="`chance` must be a finite number >= 0 and <= 1.0"):
        plots.plot_accuracy_vs_labels({"a": {10: 0.5}}, chance=1.5)
    plots.plot_accuracy_vs_labels({"a": {10: 50.0}}, chance=10)  # percentages
    with pytest.raises(ValueError, match="`phases` must hold one label per epoch"):
        plots.plot_history({"loss": [1.0, 0.5]}, phases=["a", "b", "c"])
    with pytest.raises(ValueError, match="`source` and `target` must have the same feature size"):
        plots.plot_domain_embeddings(f, f[:, :2])
    with pytest.raises(ValueError, match="`after` must be a"):
        plots.plot_domain_embeddings(f, f, after=(f, f, f))
    with pytest.raises(ValueError, match="`after\\[1\\]` is empty"):
        plots.plot_domain_embeddings(f, f, after=(f, f[:0]))
    plt.close("all")
