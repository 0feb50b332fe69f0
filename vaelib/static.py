"""Kernel-free explorers: interactive figures that work on the static HTML page.

The ipywidgets explorers of :mod:`vaelib.widgets` need a running Python
kernel to redraw; on the online book (plain HTML, no kernel) they show only a
picture of their first state.  A *kernel-free* explorer instead carries
everything it needs in the page and runs in the browser:

- the model's MLP decoder, exported by :func:`export_decoder` in the format
  ``vaelib-mlp-decoder/1``: weights quantized to int8 with one scale per row
  (output unit), base64-encoded; biases as floats; all as JSON;
- JavaScript shipped with the package: ``vaelib/js/decoder.js`` decodes those
  weights and runs the decoder in the page; ``vaelib/js/latent_pad.js`` (a pad
  over a 2-D latent space), ``vaelib/js/traversal.js`` (a slider along one
  latent dimension) and ``vaelib/js/interpolation.js`` (a slider along the
  path between two codes) are the explorers built on it.

:func:`static_latent_explorer`, :func:`static_traversal_explorer` and
:func:`static_interpolation_explorer` emit the decoder and the scripts, with
the controls and canvases they draw on, as one HTML block: no CDN, no kernel,
no server.  :func:`static_gaussian_explorer` needs no model: its script,
``vaelib/js/gaussian.js``, draws a bell curve.  :func:`decoder_from_export`
reads an export back into PyTorch, to check that what the page computes is
what the model computes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from html import escape as html_escape
from importlib import resources

import numpy as np
import torch
from torch import Tensor

from .models import label_choices

__all__ = [
    "FORMAT",
    "decoder_from_export",
    "decoder_js",
    "export_decoder",
    "gaussian_js",
    "interpolation_js",
    "latent_pad_js",
    "static_gaussian_explorer",
    "static_interpolation_explorer",
    "static_latent_explorer",
    "static_traversal_explorer",
    "traversal_js",
]

FORMAT = "vaelib-mlp-decoder/1"


def export_decoder(model) -> dict:
    """The MLP decoder of ``model`` as a compact, JSON-ready dict.

    Weights are quantized to int8 with one scale per output unit (about a
    quarter of the float32 size; pixel probabilities move by well under 0.01)
    and base64-encoded; biases stay floats.  :func:`decoder_from_export`
    reads it back; the static explorer's JavaScript reads it in the browser.
    """
    layers = []
    modules = list(model.decoder)
    for i, module in enumerate(modules):
        if isinstance(module, torch.nn.ReLU):
            continue
        if not isinstance(module, torch.nn.Linear):
            raise TypeError(
                f"only MLP decoders (Linear and ReLU layers) can be exported, found {type(module).__name__}"
            )
        weight = module.weight.detach().cpu().float()  # [out, in]
        scale = weight.abs().amax(dim=1).clamp_min(1e-12) / 127  # [out]
        quantized = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8)
        followed_by_relu = i + 1 < len(modules) and isinstance(modules[i + 1], torch.nn.ReLU)
        layers.append(
            {
                "in": module.in_features,
                "out": module.out_features,
                "activation": "relu" if followed_by_relu else "none",
                "scale": [float(f"{s:.7g}") for s in scale.tolist()],
                "weight": base64.b64encode(quantized.numpy().tobytes()).decode("ascii"),
                "bias": [float(f"{b:.7g}") for b in module.bias.detach().cpu().tolist()],
            }
        )
    side = int(round(layers[-1]["out"] ** 0.5))  # square images
    return {"format": FORMAT, "layers": layers, "output": "sigmoid", "side": side}


def decoder_from_export(spec: dict) -> torch.nn.Sequential:
    """The exported decoder as a PyTorch module returning *probabilities* (sigmoid applied)."""
    if spec.get("format") != FORMAT:
        raise ValueError(f"not an exported vaelib decoder: format {spec.get('format')!r}")
    modules: list[torch.nn.Module] = []
    for layer in spec["layers"]:
        linear = torch.nn.Linear(layer["in"], layer["out"])
        quantized = np.frombuffer(base64.b64decode(layer["weight"]), dtype=np.int8).reshape(layer["out"], layer["in"])
        weight = torch.from_numpy(quantized.astype(np.float32)) * torch.tensor(layer["scale"])[:, None]
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(torch.tensor(layer["bias"]))
        modules.append(linear)
        if layer["activation"] == "relu":
            modules.append(torch.nn.ReLU())
    modules.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*modules)


def _js(name: str) -> str:
    return (resources.files("vaelib") / "js" / name).read_text(encoding="utf-8")


def decoder_js() -> str:
    """The text of ``vaelib/js/decoder.js``, which defines ``window.vaelibDecoder``
    (read an export, run it, draw its image); every explorer's page needs it first."""
    return _js("decoder.js")


def latent_pad_js() -> str:
    """The text of ``vaelib/js/latent_pad.js``, which defines ``window.vaelibLatentPad(root)``."""
    return _js("latent_pad.js")


def gaussian_js() -> str:
    """The text of ``vaelib/js/gaussian.js``, which defines ``window.vaelibGaussian(root)``."""
    return _js("gaussian.js")


def interpolation_js() -> str:
    """The text of ``vaelib/js/interpolation.js``, which defines ``window.vaelibInterpolation(root)``."""
    return _js("interpolation.js")


def traversal_js() -> str:
    """The text of ``vaelib/js/traversal.js``, which defines ``window.vaelibTraversal(root)``."""
    return _js("traversal.js")


def _labelled_codes(labels: Sequence[str], codes: Tensor) -> list[dict]:
    """Codes ``[S, d]`` and their names as an explorer's spec holds them (4 decimals)."""
    return [
        {"label": label, "code": [round(v, 4) for v in code]}
        for label, code in zip(labels, codes.tolist(), strict=True)
    ]


def _element_id(spec: str) -> str:
    return "vaelib-explorer-" + hashlib.sha1(spec.encode()).hexdigest()[:10]


def _page_script(spec: str, element_id: str, explorer_js: str, entry: str) -> str:
    """The end of an explorer's HTML: its JSON spec, then the decoder's script, the
    explorer's script, and the call that starts the explorer on its root element."""
    return f"""  <script type="application/json">{spec}</script>
  <script>
{decoder_js()}
{explorer_js}
{entry}(document.getElementById("{element_id}"));
  </script>"""


def _slider_explorer_html(
    element_id: str, kind: str, controls: str, side: int, image_label: str, script: str, spec: str
) -> str:
    """The layout shared by the decoder explorers with form controls: a column of
    ``controls`` and a readout (class ``vaelib-<kind>-readout``) beside the canvas
    the decoded image is drawn on (``vaelib-<kind>-image``), then the page script."""
    entry = "vaelib" + kind.capitalize()
    return f"""
<div id="{element_id}" class="vaelib-static-{kind}" style="display:flex;gap:24px;align-items:center;flex-wrap:wrap">
  <div style="display:flex;flex-direction:column;gap:8px;font-size:14px">
{controls}
    <div class="vaelib-{kind}-readout" style="font-family:monospace;font-size:13px"></div>
  </div>
  <canvas class="vaelib-{kind}-image" width="{side}" height="{side}" role="img" aria-label="{image_label}"
          style="width:168px;height:168px;image-rendering:pixelated;border:1px solid #999"></canvas>
{_page_script(spec, element_id, script, entry)}
</div>
"""


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
