"""Explorers built and driven programmatically: no display needed."""

import matplotlib

matplotlib.use("Agg")

import numpy as np

from vaelib import widgets


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


def test_explorer_display_bundle_carries_a_static_image(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    explorer = widgets.GaussianExplorer()
    explorer._ipython_display_()
    bundle = shown[-1]
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert bundle["image/png"].startswith("iVBOR")  # a PNG, base64


import torch  # noqa: E402

from vaelib import models  # noqa: E402


def shown_image(explorer):
    return torch.tensor(explorer.figure.axes[0].images[0].get_array())


def small_vae(latent_dim):
    torch.manual_seed(0)
    return models.VAE(models.VAEConfig(hidden_dims=(32,), latent_dim=latent_dim))


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
    explorer = widgets.TraversalExplorer(model, codes, values=torch.linspace(-2, 2, 5))
    assert sum(len(ax.images) for ax in explorer.figure.axes) == 5
    redraws = explorer.redraws
    explorer.dim.value = 2
    explorer.start.value = 3
    assert explorer.redraws == redraws + 2


def test_exported_decoder_reproduces_the_model():
    model = small_vae(2)
    spec = widgets.export_decoder(model)
    assert spec["side"] == 28 and [l["activation"] for l in spec["layers"]] == ["relu", "none"]
    decoder = widgets.decoder_from_export(spec)
    z = torch.randn(100, 2) * 2
    with torch.no_grad():
        assert (decoder(z) - torch.sigmoid(model.decode(z))).abs().max() < 0.01


def test_static_explorer_embeds_the_decoder_and_its_script():
    import json
    import re

    model = small_vae(2)
    html = widgets.static_latent_explorer(model, torch.randn(30, 2), torch.arange(30) % 10).data
    spec = json.loads(re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1))
    assert spec["decoder"] == widgets.export_decoder(model) and len(spec["points"]) <= 30
    assert "vaelib-latent-pad" in html and "function decode" in html
    try:
        widgets.static_latent_explorer(small_vae(3))
    except ValueError as err:
        assert "2-D" in str(err)
    else:
        raise AssertionError("a 3-D latent space was accepted")
