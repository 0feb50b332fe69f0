"""The kernel-free explorers: each returns one ``IPython.display.HTML`` block that runs in
any browser, with its decoder, its scripts, its controls and its canvases.

A bell curve with sliders for its mean and its standard deviation
(:func:`static_gaussian_explorer`, no model); a path between two codes
(:func:`static_interpolation_explorer`); a traversal along one latent dimension
(:func:`static_traversal_explorer`); a pad over a 2-D latent space
(:func:`static_latent_explorer`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape as html_escape

import torch
from torch import Tensor

from ..models import label_choices
from .export import export_decoder
from .page import (
    _element_id,
    _page_script,
    _slider_explorer_html,
    gaussian_js,
    interpolation_js,
    latent_pad_js,
    traversal_js,
)

__all__ = [
    "static_gaussian_explorer",
    "static_interpolation_explorer",
    "static_latent_explorer",
    "static_traversal_explorer",
]


def _labelled_codes(labels: Sequence[str], codes: Tensor) -> list[dict]:
    """Codes ``[S, d]`` and their names as an explorer's spec holds them (4 decimals)."""
    return [
        {"label": label, "code": [round(v, 4) for v in code]}
        for label, code in zip(labels, codes.tolist(), strict=True)
    ]


def static_gaussian_explorer(
    mu: float = 0.0,
    sigma: float = 1.0,
    others: Sequence[tuple[float, float]] = ((0.0, 1.0),),
    xlim: tuple[float, float] = (-6.0, 6.0),
    samples: int = 241,
):
    """The bell curve of N(mu, sigma^2) with sliders for mu and sigma, redrawn by
    ``vaelib/js/gaussian.js`` in any browser, without a kernel: the kernel-free
    twin of :class:`vaelib.widgets.GaussianExplorer`, with the same slider ranges.

    The page draws the density as a polyline of ``samples`` points over
    ``xlim``, shades the areas within one and two standard deviations, and
    draws each ``(mu, sigma)`` of ``others`` thin, for comparison.
    """
    from IPython.display import HTML

    if not (-3.0 <= mu <= 3.0 and 0.2 <= sigma <= 3.0):
        raise ValueError(f"mu must lie in [-3, 3] and sigma in [0.2, 3] (the sliders' ranges), got {mu}, {sigma}")
    if samples < 2 or not xlim[0] < xlim[1]:
        raise ValueError(f"need at least 2 samples over an increasing xlim, got {samples} over {xlim}")
    spec = json.dumps(
        {"xlim": [float(v) for v in xlim], "others": [[float(m), float(s)] for m, s in others], "samples": samples},
        separators=(",", ":"),
    )
    element_id = _element_id(f"gaussian {mu} {sigma} {spec}")
    slider = "width:220px;vertical-align:middle"
    html = f"""
<div id="{element_id}" class="vaelib-static-gaussian"
     style="display:flex;flex-direction:column;gap:8px;max-width:560px">
  <div style="display:flex;gap:24px;flex-wrap:wrap;font-size:14px">
    <label>μ <input type="range" class="vaelib-gaussian-mu" min="-3" max="3" step="0.1" value="{mu}"
      style="{slider}"></label>
    <label>σ <input type="range" class="vaelib-gaussian-sigma" min="0.2" max="3" step="0.1" value="{sigma}"
      style="{slider}"></label>
  </div>
  <svg class="vaelib-gaussian-plot" viewBox="0 0 560 300" width="560" height="300" role="img"
       aria-label="the density of the normal distribution with the chosen mean and standard deviation"
       style="max-width:100%;height:auto"></svg>
  <div class="vaelib-gaussian-readout" style="font-family:monospace;font-size:13px"></div>
  <script type="application/json">{spec}</script>
  <script>
{gaussian_js()}
vaelibGaussian(document.getElementById("{element_id}"));
  </script>
</div>
"""
    return HTML(html)


def static_interpolation_explorer(
    model,
    ends: Tensor,
    labels: Sequence[str],
    start: tuple[int, int] = (0, 1),
    path: str = "spherical",
):
    """The path between two codes, linear or spherical, decoded in any browser
    without a kernel: the kernel-free twin of
    :class:`vaelib.widgets.InterpolationExplorer`, run by ``vaelib/js/interpolation.js``
    with the model's decoder exported by :func:`export_decoder`.

    ``ends``: codes ``[E, d]`` the reader can pick either end of the path from,
    named by ``labels``; the page opens on ``ends[start[0]]`` to
    ``ends[start[1]]``, along ``path`` (``"linear"`` or ``"spherical"``), at t = 0.5.
    """
    from IPython.display import HTML

    ends = torch.as_tensor(ends, dtype=torch.float32).detach().cpu()
    if ends.dim() != 2 or ends.shape[1] != model.latent_dim or len(ends) < 2:
        raise ValueError(f"ends must be at least two codes of shape [E, {model.latent_dim}], got {tuple(ends.shape)}")
    if (ends.norm(dim=1) == 0).any():
        raise ValueError("every end must be a nonzero code: the spherical path needs a direction")
    labels = list(labels)
    if len(labels) != len(ends) or not all(0 <= k < len(ends) for k in start) or start[0] == start[1]:
        raise ValueError("need one label per end, and two different ends to start from")
    if path not in ("linear", "spherical"):
        raise ValueError(f"path must be 'linear' or 'spherical', got {path!r}")
    decoder = export_decoder(model)
    spec = json.dumps(
        {
            "decoder": decoder,
            "ends": _labelled_codes(labels, ends),
            "from": int(start[0]),
            "to": int(start[1]),
        },
        separators=(",", ":"),
    )
    element_id = _element_id(spec + path)
    side = decoder["side"]
    options = "".join(f"<option>{html_escape(label)}</option>" for label in labels)
    paths = "".join(f"<option{' selected' if p == path else ''}>{p}</option>" for p in ("spherical", "linear"))
    controls = f"""    <label>from <select class="vaelib-interpolation-from">{options}</select></label>
    <label>to <select class="vaelib-interpolation-to">{options}</select></label>
    <label>path <select class="vaelib-interpolation-path">{paths}</select></label>
    <label>t <input type="range" class="vaelib-interpolation-t" min="0" max="1" step="0.01" value="0.5"
      style="width:220px;vertical-align:middle"></label>"""
    label = "the decoded image of the code at t along the path"
    html = _slider_explorer_html(element_id, "interpolation", controls, side, label, interpolation_js(), spec)
    return HTML(html)


def static_traversal_explorer(
    model,
    starts: Tensor,
    start_labels: Sequence[str] | None = None,
    dims: Sequence[tuple[int, str]] | None = None,
    limit: float = 3.0,
):
    """A latent traversal that runs in any browser, without a kernel.

    Pick a latent dimension and a starting image, drag the slider: the page
    decodes the start's code with that one coordinate replaced by the
    slider's value (from ``-limit`` to ``limit``), with the model's decoder
    exported by :func:`export_decoder` and run by ``vaelib/js/traversal.js``.

    ``starts``: codes ``[S, d]`` of the images a traversal can start from,
    named by ``start_labels``.  ``dims``: the dimensions offered, as
    ``(index, label)`` pairs, the first one selected when the page opens (put
    the most informative first); by default every dimension, ``z1 ... zd``.
    """
    from IPython.display import HTML

    starts = torch.as_tensor(starts, dtype=torch.float32).detach().cpu()
    if starts.dim() != 2 or starts.shape[1] != model.latent_dim or not len(starts):
        raise ValueError(f"starts must be codes of shape [S, {model.latent_dim}], got {tuple(starts.shape)}")
    labels = list(start_labels) if start_labels is not None else [f"image {k + 1}" for k in range(len(starts))]
    dims = list(dims) if dims is not None else [(j, f"z{j + 1}") for j in range(model.latent_dim)]
    if len(labels) != len(starts) or not dims or not all(0 <= j < model.latent_dim for j, _ in dims):
        raise ValueError("need one label per start, and dimensions among the model's latents")
    decoder = export_decoder(model)
    spec = json.dumps(
        {
            "limit": limit,
            "decoder": decoder,
            "starts": _labelled_codes(labels, starts),
            "dims": [{"index": int(j), "label": label} for j, label in dims],
        },
        separators=(",", ":"),
    )
    element_id = _element_id(spec)
    side = decoder["side"]
    dim_options = "".join(f"<option>{html_escape(label)}</option>" for _, label in dims)
    start_options = "".join(f"<option>{html_escape(label)}</option>" for label in labels)
    controls = f"""    <label>latent dimension <select class="vaelib-traversal-dim">{dim_options}</select></label>
    <label>start from <select class="vaelib-traversal-start">{start_options}</select></label>
    <label>value <input type="range" class="vaelib-traversal-value" min="{-limit}" max="{limit}" step="any"
      style="width:220px;vertical-align:middle"></label>"""
    label = "the decoded image of the chosen code"
    html = _slider_explorer_html(element_id, "traversal", controls, side, label, traversal_js(), spec)
    return HTML(html)


def static_latent_explorer(
    model,
    codes: Tensor | None = None,
    labels: Tensor | None = None,
    limit: float = 3.0,
    max_points: int = 1_500,
    start: Sequence[float] | Tensor | None = None,
    label: int = 0,
    label_names: Sequence[str] | None = None,
    density=None,
    rings: Sequence[float] = (),
):
    """A latent explorer for a 2-D VAE that runs in any browser, without a kernel.

    Returns an ``IPython.display.HTML`` block: a pad showing the latent plane
    (with ``codes`` coloured by ``labels``, if given) and a canvas where the
    decoder, exported with :func:`export_decoder` and run by
    ``vaelib/js/latent_pad.js``, draws the image of the point under the pointer.
    The pad opens on the code ``start`` (default: the first of ``codes``, a
    typical code, else the origin), moved onto the pad's edge if it lies
    outside.

    For a conditional VAE (:class:`vaelib.models.CVAE`) the page also offers
    a selector of the label the decoder is given, opening on ``label``, named
    by ``label_names`` (default ``"0"``, ``"1"``, ...): the page decodes the
    code under the pointer with that label's one-hot vector appended, as
    ``model.decode(z, label)`` does.

    With ``density`` (a :class:`vaelib.aggregate_posterior.DensityMap`), the
    pad is shaded by the aggregate posterior q(z) (darker: more codes, over
    the 8 nats below its peak) and the readout adds log p(z) and log q(z) at
    the pointer, read off the map's nearest grid point; ``rings`` draws dashed
    circles of those radii, the 1, 2, 3 sigma of N(0, I) for ``(1, 2, 3)``.
    """
    from IPython.display import HTML

    if model.latent_dim != 2:
        raise ValueError(f"the static explorer needs a 2-D latent space, got latent_dim={model.latent_dim}")
    names = label_choices(model, label, label_names)  # None: the decoder takes no label
    decoder = export_decoder(model)
    points = []
    if codes is not None:
        keep = torch.linspace(0, len(codes) - 1, min(max_points, len(codes))).long()
        inside = codes[keep].abs().amax(dim=1) < limit
        shown = codes[keep][inside].tolist()
        shown_labels = [0] * len(shown) if labels is None else labels[keep][inside].tolist()
        for (z1, z2), point_label in zip(shown, shown_labels, strict=True):
            points.append([round(z1, 2), round(z2, 2), int(point_label)])
    if start is None:
        start = codes[0] if codes is not None and len(codes) else (0.0, 0.0)
    start = torch.as_tensor(start, dtype=torch.float32).flatten()
    if start.numel() != 2 or not torch.isfinite(start).all():
        raise ValueError(f"start must be a finite 2-D code, got {start.tolist()}")
    start = [round(v, 3) for v in start.clamp(-limit, limit).tolist()]  # on the pad, at its edge if need be
    spec = {"limit": limit, "decoder": decoder, "points": points, "start": start}
    if density is not None:
        spec["density"] = _density_spec(density)
    if rings:
        spec["rings"] = [float(r) for r in rings]
    selector = ""
    if names is not None:
        spec["classes"] = len(names)
        options = "".join(
            f"<option{' selected' if k == label else ''}>{html_escape(name)}</option>" for k, name in enumerate(names)
        )
        selector = f"""
    <label style="font-size:14px">draw the label <select class="vaelib-latent-label">{options}</select></label>"""
    spec = json.dumps(spec, separators=(",", ":"))
    element_id = _element_id(spec + str(label))
    side = decoder["side"]
    html = f"""
<div id="{element_id}" class="vaelib-static-explorer" style="display:flex;gap:24px;align-items:center;flex-wrap:wrap">
  <div>
    <canvas class="vaelib-latent-pad" width="280" height="280"
            style="border:1px solid #999;cursor:crosshair;touch-action:none;width:280px;height:280px"></canvas>
    <div class="vaelib-latent-readout" style="font-family:monospace;font-size:13px"></div>
  </div>
  <div style="display:flex;flex-direction:column;gap:8px">{selector}
    <canvas class="vaelib-latent-image" width="{side}" height="{side}"
            style="width:168px;height:168px;image-rendering:pixelated;border:1px solid #999"></canvas>
  </div>
{_page_script(spec, element_id, latent_pad_js(), "vaelibLatentPad")}
</div>
"""
    return HTML(html)


def _density_spec(density) -> dict:
    """A density map as the page reads it: the grid's extent and size, both log-densities row by row
    (row i at the i-th value of z2, low to high; column j at the j-th of z1), to 0.1 nat."""
    n = len(density.z1)
    if len(density.z2) != n or density.log_aggregate.shape != (n, n) or density.log_prior.shape != (n, n):
        raise ValueError("density must be a square DensityMap: z1 and z2 of one length n, log-densities [n, n]")
    if not torch.equal(density.z1, density.z2):
        raise ValueError("density must cover the same range on both axes")

    def values(t: Tensor) -> list[float]:
        return [round(v, 1) for v in t.clamp(min=-1e4).flatten().tolist()]

    return {
        "low": round(float(density.z1[0]), 4),
        "high": round(float(density.z1[-1]), 4),
        "steps": n,
        "logq": values(density.log_aggregate),
        "logp": values(density.log_prior),
    }
