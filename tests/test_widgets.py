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
