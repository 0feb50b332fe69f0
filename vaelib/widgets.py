"""Interactive explorers: sliders that redraw a figure.

Only the ipywidgets API common to 7.7 (what Google Colab ships) and 8.x is
used: ``FloatSlider``, ``IntSlider``, ``Dropdown``, ``Output``,
``HBox``/``VBox``, ``observe``.  A dropdown is watched through its ``index``,
the trait that 7.7 syncs from the page (8.x syncs it too).

An explorer displays as a live widget in Jupyter and Colab.  The bundle it
displays also carries a PNG of its first state, so a page rendered without a
kernel (the online book) still shows the figure.  Explorers that run in the
page itself, without a kernel, are in :mod:`vaelib.static`.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from . import latent, plotting
from .models import label_choices

__all__ = [
    "Explorer",
    "GaussianExplorer",
    "InterpolationExplorer",
    "LatentExplorer",
    "PriorMapExplorer",
    "TraversalExplorer",
]


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
        self.widget = self._layout()
        self.figure: Figure | None = None
        self.redraws = 0
        for control in self.controls:
            control.observe(self._changed, names="index" if isinstance(control, w.Dropdown) else "value")
        self.update()

    def render(self) -> Figure:  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def _layout(self):
        import ipywidgets as w

        return w.VBox([w.HBox(self.controls), self.output])

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
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.widget.model_id,
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


class LatentExplorer(Explorer):
    """One slider per latent dimension (the first ``max_sliders``), the decoded image live.

    The other dimensions stay at ``z0`` (default: the origin, the prior's mode).
    For a conditional VAE (:class:`vaelib.models.CVAE`) a dropdown above the
    sliders picks the label the decoder is given, opening on ``label``, named
    by ``label_names`` (default ``"0"``, ``"1"``, ...).
    """

    def __init__(
        self,
        model,
        z0: Tensor | None = None,
        max_sliders: int = 8,
        limit: float = 3.0,
        label: int = 0,
        label_names: list[str] | None = None,
    ) -> None:
        import ipywidgets as w

        self.model = model
        d = model.latent_dim
        self.z0 = torch.zeros(d) if z0 is None else torch.as_tensor(z0, dtype=torch.float32).clone()
        self.sliders = [
            w.FloatSlider(
                value=float(self.z0[j]),
                min=-limit,
                max=limit,
                step=0.1,
                description=f"z{j + 1}",
                continuous_update=True,
            )
            for j in range(min(d, max_sliders))
        ]
        self.label = None
        names = label_choices(model, label, label_names)  # None: the decoder takes no label
        if names is not None:
            self.label = w.Dropdown(options=names, value=names[label], description="draw")
        super().__init__(self.sliders if self.label is None else [self.label, *self.sliders])

    def code(self) -> Tensor:
        """The code the sliders set: ``[d]``."""
        z = self.z0.clone()
        for j, slider in enumerate(self.sliders):
            z[j] = slider.value
        return z

    def render(self) -> Figure:
        label = () if self.label is None else (self.label.index,)  # a conditional VAE's label
        return plotting.image_grid(self.model.decode_probs(self.code()[None], *label).cpu(), ncols=1, scale=2.6)

    def _layout(self):
        import ipywidgets as w

        return w.HBox([w.VBox(self.controls), self.output])


class InterpolationExplorer(Explorer):
    """A slider t in [0, 1] along the path between two codes, linear or spherical."""

    def __init__(self, model, z0: Tensor, z1: Tensor, steps: int = 11) -> None:
        import ipywidgets as w

        self.model = model
        self.paths = {"linear": latent.lerp(z0, z1, steps), "spherical": latent.slerp(z0, z1, steps)}
        self.t = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=1 / (steps - 1), description="t")
        self.kind = w.Dropdown(options=list(self.paths), value="spherical", description="path")
        self.steps = steps
        super().__init__([self.t, self.kind])

    def index(self) -> int:
        """The step of the path that t points at."""
        return round(self.t.value * (self.steps - 1))

    def code(self) -> Tensor:
        return self.paths[self.kind.value][self.index()]

    def render(self) -> Figure:
        """The whole path decoded, the step at t framed in red."""
        images = self.model.decode_probs(self.paths[self.kind.value]).cpu()
        fig = plotting.image_rows({f"{self.kind.value}, t = {self.t.value:.2f}": images}, scale=0.75)
        ax = fig.axes[self.index()]
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#C44E52")
            spine.set_linewidth(2.5)
        return fig


class TraversalExplorer(Explorer):
    """Pick a latent dimension and a starting code; see the traversal of that dimension.

    The dimension slider counts from 1, as the text does (z1 ... zd); ``dim``
    (counted from 0, as in code) is the one it opens on: pass the most
    informative, so that the first picture shows something moving.
    """

    def __init__(self, model, codes: Tensor, values: Tensor | None = None, dim: int = 0) -> None:
        import ipywidgets as w

        if not 0 <= dim < model.latent_dim:
            raise ValueError(f"dim must be a latent dimension, 0 to {model.latent_dim - 1}; got {dim}")
        self.model = model
        self.codes = codes
        self.values = torch.linspace(-3, 3, 9) if values is None else values
        self.dim = w.IntSlider(value=dim + 1, min=1, max=model.latent_dim, description="latent z")
        self.start = w.IntSlider(value=0, min=0, max=len(codes) - 1, description="image")
        super().__init__([self.dim, self.start])

    def render(self) -> Figure:
        z = latent.traversal(self.codes[self.start.value], self.dim.value - 1, self.values)
        return plotting.image_grid(self.model.decode_probs(z).cpu(), ncols=len(self.values), scale=1.0)


class PriorMapExplorer(Explorer):
    """Two sliders for a code of a 2-D VAE: its place on the map of the prior and of the codes
    (:func:`vaelib.plotting.code_on_the_map`, from ``density``, a
    :class:`vaelib.aggregate_posterior.DensityMap`) and its decoded image, live."""

    def __init__(self, model, density, z0: Sequence[float] = (0.0, 0.0), limit: float = 3.0) -> None:
        import ipywidgets as w

        if model.latent_dim != 2:
            raise ValueError(f"the map explorer needs a 2-D latent space, got latent_dim={model.latent_dim}")
        self.model, self.density = model, density
        self.sliders = [
            w.FloatSlider(value=float(v), min=-limit, max=limit, step=0.1, description=f"z{j + 1}")
            for j, v in enumerate(z0)
        ]
        super().__init__(self.sliders)

    def code(self) -> Tensor:
        """The code the sliders set: ``[2]``."""
        return torch.tensor([slider.value for slider in self.sliders])

    def render(self) -> Figure:
        z = self.code()
        return plotting.code_on_the_map(self.density, z, self.model.decode_probs(z[None])[0].cpu())
