"""Explorers built and driven programmatically, and displayed through IPython's own display machinery."""

import matplotlib

matplotlib.use("Agg")

import atexit
import base64
import builtins
import sys

import IPython.display
import numpy as np
import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

from vaelib import models, widgets


def curve(explorer):
    line = explorer.figure.axes[0].lines[-1]  # the highlighted curve is drawn last
    return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())


def test_gaussian_explorer_redraws_when_a_slider_moves():
    explorer = widgets.GaussianExplorer(mu=0.0, sigma=1.0)
    x, y = curve(explorer)
    assert abs(x[y.argmax()]) < 0.02 and abs(y.max() - 0.3989) < 1e-3
    explorer.mu.value = 1.5
    x, y = curve(explorer)
    assert abs(x[y.argmax()] - 1.5) < 0.02
    explorer.sigma.value = 2.0
    _, y = curve(explorer)
    assert abs(y.max() - 0.3989 / 2) < 1e-3
    assert explorer.redraws == 3


@pytest.fixture
def ipython(tmp_path, monkeypatch):
    """A real IPython shell (no kernel), as Jupyter has; what it changes in this process is put back after."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])  # the shell replaces __main__
    for name in ["ps1", "ps2", "ps3"]:  # the shell sets its prompts
        monkeypatch.setattr(sys, name, getattr(sys, name, None), raising=False)
    for name in ["__IPYTHON__", "display"]:  # and two builtins
        monkeypatch.setattr(builtins, name, getattr(builtins, name, None), raising=False)
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    yield shell
    atexit.unregister(shell.atexit_operations)
    InteractiveShell.clear_instance()


def test_displaying_an_explorer_shows_the_widget_and_a_static_image(ipython):
    explorer = widgets.GaussianExplorer()
    with capture_output() as captured:
        IPython.display.display(explorer)
    (output,) = captured.outputs
    assert output.data["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    png = base64.b64decode(output.data["image/png"])
    assert png.startswith(b"\x89PNG")  # a kernel-less page still shows the figure
    assert "GaussianExplorer" in output.data["text/plain"]


def shown_image(explorer):
    return torch.tensor(explorer.figure.axes[0].images[0].get_array())


def small_vae(latent_dim):
    torch.manual_seed(0)
    return models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=latent_dim))


def test_latent_explorer_decodes_the_code_its_sliders_set():
    model = small_vae(4)
    explorer = widgets.LatentExplorer(model, max_sliders=3)
    assert len(explorer.sliders) == 3
    before = shown_image(explorer)
    explorer.sliders[1].value = 2.5
    assert torch.equal(explorer.code(), torch.tensor([0.0, 2.5, 0.0, 0.0]))
    after = shown_image(explorer)
    expected = torch.sigmoid(model.decode(explorer.code()[None])).detach().reshape(28, 28)
    assert torch.allclose(after, expected, atol=1e-6) and not torch.allclose(before, after)


def test_interpolation_explorer_walks_the_chosen_path():
    model = small_vae(3)
    z0, z1 = torch.tensor([2.0, 0.0, 0.0]), torch.tensor([0.0, 2.0, 0.0])
    explorer = widgets.InterpolationExplorer(model, z0, z1, steps=5)
    explorer.t.value = 0.0
    assert torch.allclose(explorer.code(), z0)
    explorer.t.value = 0.5
    assert torch.allclose(explorer.code().norm(), torch.tensor(2.0))  # spherical keeps the norm
    framed = explorer.figure.axes[explorer.index()]
    assert explorer.index() == 2 and framed.spines["top"].get_visible()
    expected = torch.sigmoid(model.decode(explorer.code()[None])).detach().reshape(28, 28)
    assert torch.allclose(torch.tensor(framed.images[0].get_array()), expected, atol=1e-6)
    spherical_middle = torch.tensor(framed.images[0].get_array())
    explorer.kind.value = "linear"
    assert torch.allclose(explorer.code(), torch.tensor([1.0, 1.0, 0.0]))
    middle = torch.tensor(explorer.figure.axes[explorer.index()].images[0].get_array())
    assert not torch.allclose(spherical_middle, middle)


def test_traversal_explorer_shows_one_image_per_value():
    model = small_vae(3)
    codes = torch.randn(4, 3)
    explorer = widgets.TraversalExplorer(model, codes, values=torch.linspace(-2, 2, 5), dim=1)
    assert sum(len(ax.images) for ax in explorer.figure.axes) == 5
    assert explorer.dim.value == 2  # z2: the slider counts from 1, as the text does
    redraws = explorer.redraws
    explorer.dim.value = 3
    explorer.start.value = 3
    assert explorer.redraws == redraws + 2
    with pytest.raises(ValueError, match="latent dimension"):
        widgets.TraversalExplorer(model, codes, dim=3)


def test_prior_map_explorer_marks_the_code_and_decodes_it():
    from vaelib import aggregate_posterior

    model = small_vae(2)
    density = aggregate_posterior.density_map(model, torch.rand(40, 784), extent=3.0, steps=31)
    explorer = widgets.PriorMapExplorer(model, density, z0=(0.5, -1.0))
    assert torch.allclose(explorer.code(), torch.tensor([0.5, -1.0]))
    explorer.sliders[0].value = -2.0
    map_axes, image_axes = explorer.figure.axes[:2]
    marker = map_axes.lines[-1]
    assert (float(marker.get_xdata()[0]), float(marker.get_ydata()[0])) == (-2.0, -1.0)
    shown = torch.as_tensor(np.asarray(image_axes.images[0].get_array()))
    expected = torch.sigmoid(model.decode(explorer.code()[None])).detach().reshape(28, 28)
    assert torch.allclose(shown.float(), expected, atol=1e-6)
    i, j = 10, 5  # z2 = -1.0, z1 = -2.0 on the grid of 31 points from -3 to 3
    title = image_axes.get_title()
    assert f"log p(z) = {float(density.log_prior[i, j]):.1f}" in title
    assert f"log q(z) = {float(density.log_aggregate[i, j]):.1f}" in title
    assert explorer.redraws == 2
    with pytest.raises(ValueError, match="2-D latent space"):
        widgets.PriorMapExplorer(small_vae(3), density)
