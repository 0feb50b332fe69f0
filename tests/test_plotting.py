"""Every figure of the book is made by a function here, and each is called."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

from vaelib import plotting
from vaelib.train import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def shown_images(fig):
    return [im for ax in fig.axes for im in ax.images]


def test_image_grid_shows_every_image(images):
    fig = plotting.image_grid(images[:7], ncols=4, title="t")
    assert len(fig.axes) == 8 and len(shown_images(fig)) == 7
    assert shown_images(fig)[0].get_array().shape == (28, 28)


def test_reconstructions_put_originals_on_top(images):
    fig = plotting.reconstructions(images, 1 - images, n=5)
    assert len(shown_images(fig)) == 10
    top, bottom = fig.axes[0], fig.axes[5]
    assert top.get_ylabel() == "original" and bottom.get_ylabel() == "reconstruction"
    assert torch.allclose(torch.tensor(top.images[0].get_array()), images[0].reshape(28, 28))
    assert torch.allclose(torch.tensor(bottom.images[0].get_array()), 1 - images[0].reshape(28, 28))


def test_image_rows_labels_each_row(images):
    fig = plotting.image_rows({"noisy": images[:3], "clean": images[:2]})
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["noisy", "clean"]
    assert len(shown_images(fig)) == 5


def test_loss_curves_draw_train_and_test():
    history = History(train=[{"loss": 3.0}, {"loss": 2.0}], test=[{"loss": 3.5}, {"loss": 2.5}])
    (ax,) = plotting.loss_curves(history).axes
    assert [list(line.get_ydata()) for line in ax.lines] == [[3.0, 2.0], [3.5, 2.5]]


def test_latent_scatter_colours_by_label():
    z = torch.randn(50, 2)
    labels = torch.arange(50) % 5
    (ax,) = plotting.latent_scatter(z, labels, class_names=list("abcde")).axes
    assert len(ax.collections) == 5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list("abcde")
    with pytest.raises(ValueError, match="2-D"):
        plotting.latent_scatter(torch.randn(5, 3), labels[:5])


def test_error_histograms_one_per_set_on_a_log_scale():
    a, b = torch.rand(100) * 50 + 50, torch.rand(30) * 5000 + 500
    (ax,) = plotting.error_histograms({"a": a, "b": b}).axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert ax.get_xscale() == "log"
    assert sum(p.get_height() for p in ax.patches) == 130  # every image counted once
    with pytest.raises(ValueError, match="positive"):
        plotting.error_histograms({"a": torch.tensor([0.0, 1.0])})


def test_autoencoder_diagram_draws_each_layer():
    fig = plotting.autoencoder_diagram(784, (512, 256), 16)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.texts]
    for size in ["784", "512", "256", "16"]:
        assert size in labels
    assert any("bottleneck" in t for t in labels) and "encoder" in labels and "decoder" in labels
    bars = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
    assert len(bars) == 7
