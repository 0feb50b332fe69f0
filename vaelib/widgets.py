"""Interactive explorers: sliders that redraw a figure.

Only the ipywidgets API common to 7.7 (what Google Colab ships) and 8.x is
used: ``FloatSlider``, ``Output``, ``HBox``/``VBox``, ``observe``.

An explorer displays as a live widget in Jupyter and Colab.  The bundle it
displays also carries a PNG of its first state, so a page rendered without a
kernel (the online book) still shows the figure.
"""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from . import plotting

__all__ = ["Explorer", "GaussianExplorer"]


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class Explorer:
    """Base class: ``controls`` (sliders) above an output that ``render()`` fills.

    Subclasses set ``self.controls`` and implement ``render() -> Figure``;
    every change of a control redraws.  ``self.figure`` is the last figure.
    """

    def __init__(self, controls) -> None:
        import ipywidgets as w

        self.controls = list(controls)
        self.output = w.Output()
        self.widget = w.VBox([w.HBox(self.controls), self.output])
        self.figure: Figure | None = None
        self.redraws = 0
        for control in self.controls:
            control.observe(self._changed, names="value")
        self.update()

    def render(self) -> Figure:  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def _changed(self, change) -> None:
        self.update()

    def update(self) -> None:
        """Redraw the figure for the controls' current values."""
        from IPython.display import display

        self.figure = self.render()
        plt.close(self.figure)  # shown in the output below, not again by the inline backend
        self.redraws += 1
        with self.output:
            self.output.clear_output(wait=True)
            display(self.figure)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        bundle = {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id,
            },
            "image/png": _png(self.figure),
            "text/plain": f"{type(self).__name__} (move the sliders in Jupyter or Colab)",
        }
        display(bundle, raw=True)


class GaussianExplorer(Explorer):
    """Sliders for the mean and standard deviation of N(mu, sigma^2), redrawing the bell curve."""

    def __init__(self, mu: float = 0.0, sigma: float = 1.0) -> None:
        import ipywidgets as w

        self.mu = w.FloatSlider(value=mu, min=-3.0, max=3.0, step=0.1, description="μ")
        self.sigma = w.FloatSlider(value=sigma, min=0.2, max=3.0, step=0.1, description="σ")
        super().__init__([self.mu, self.sigma])

    def render(self) -> Figure:
        return plotting.normal_curve(self.mu.value, self.sigma.value, others=[(0.0, 1.0)])
