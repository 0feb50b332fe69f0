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
import torch
from matplotlib.figure import Figure
from torch import Tensor

from . import latent, plotting

__all__ = ["Explorer", "GaussianExplorer", "InterpolationExplorer", "LatentExplorer", "TraversalExplorer"]


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
            control.observe(self._changed, names="value")
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


def _decode_images(model, z: Tensor) -> Tensor:
    """Codes ``[n, d]`` -> pixel probabilities ``[n, D]`` on the CPU."""
    device = next(model.parameters()).device
    with torch.no_grad():
        return torch.sigmoid(model.decode(z.to(device))).cpu()


class LatentExplorer(Explorer):
    """One slider per latent dimension (the first ``max_sliders``), the decoded image live.

    The other dimensions stay at ``z0`` (default: the origin, the prior's mode).
    """

    def __init__(self, model, z0: Tensor | None = None, max_sliders: int = 8, limit: float = 3.0) -> None:
        import ipywidgets as w

        self.model = model
        d = model.config.latent_dim
        self.z0 = torch.zeros(d) if z0 is None else torch.as_tensor(z0, dtype=torch.float32).clone()
        self.sliders = [
            w.FloatSlider(value=float(self.z0[j]), min=-limit, max=limit, step=0.1, description=f"z{j + 1}",
                          continuous_update=True)
            for j in range(min(d, max_sliders))
        ]
        super().__init__(self.sliders)

    def code(self) -> Tensor:
        """The code the sliders set: ``[d]``."""
        z = self.z0.clone()
        for j, slider in enumerate(self.sliders):
            z[j] = slider.value
        return z

    def render(self) -> Figure:
        return plotting.image_grid(_decode_images(self.model, self.code()[None]), ncols=1, scale=2.6)

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
        images = _decode_images(self.model, self.paths[self.kind.value])
        fig = plotting.image_rows({f"{self.kind.value}, t = {self.t.value:.2f}": images}, scale=0.75)
        ax = fig.axes[self.index()]
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#C44E52")
            spine.set_linewidth(2.5)
        return fig


class TraversalExplorer(Explorer):
    """Pick a latent dimension and a starting code; see the traversal of that dimension."""

    def __init__(self, model, codes: Tensor, values: Tensor | None = None) -> None:
        import ipywidgets as w

        self.model = model
        self.codes = codes
        self.values = torch.linspace(-3, 3, 9) if values is None else values
        self.dim = w.IntSlider(value=0, min=0, max=model.config.latent_dim - 1, description="dimension")
        self.start = w.IntSlider(value=0, min=0, max=len(codes) - 1, description="image")
        super().__init__([self.dim, self.start])

    def render(self) -> Figure:
        z = latent.traversal(self.codes[self.start.value], self.dim.value, self.values)
        return plotting.image_grid(_decode_images(self.model, z), ncols=len(self.values), scale=1.0)


# -- A latent explorer that needs no kernel: the decoder runs in the page ------


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
            raise TypeError(f"only MLP decoders (Linear and ReLU layers) can be exported, found {type(module).__name__}")
        weight = module.weight.detach().cpu().float()  # [out, in]
        scale = weight.abs().amax(dim=1).clamp_min(1e-12) / 127  # [out]
        quantized = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8)
        followed_by_relu = i + 1 < len(modules) and isinstance(modules[i + 1], torch.nn.ReLU)
        layers.append({
            "in": module.in_features,
            "out": module.out_features,
            "activation": "relu" if followed_by_relu else "none",
            "scale": [float(f"{s:.7g}") for s in scale.tolist()],
            "weight": base64.b64encode(quantized.numpy().tobytes()).decode("ascii"),
            "bias": [float(f"{b:.7g}") for b in module.bias.detach().cpu().tolist()],
        })
    side = int(round(model.config.input_dim ** 0.5))
    return {"format": "vaelib-mlp-decoder/1", "layers": layers, "output": "sigmoid", "side": side}


def decoder_from_export(spec: dict) -> torch.nn.Sequential:
    """The exported decoder as a PyTorch module returning *probabilities* (sigmoid applied)."""
    import numpy as np

    if spec.get("format") != "vaelib-mlp-decoder/1":
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


_STATIC_EXPLORER_JS = r"""
(function () {
  const root = document.getElementById("%(id)s");
  const spec = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  const limit = spec.limit, side = spec.decoder.side;
  const layers = spec.decoder.layers.map(function (L) {
    const bytes = Uint8Array.from(atob(L.weight), function (c) { return c.charCodeAt(0); });
    const q = new Int8Array(bytes.buffer), W = new Float32Array(L.out * L.in);
    for (let r = 0; r < L.out; r++) for (let c = 0; c < L.in; c++) W[r * L.in + c] = q[r * L.in + c] * L.scale[r];
    return {W: W, b: Float32Array.from(L.bias), nin: L.in, nout: L.out, relu: L.activation === "relu"};
  });
  function decode(z) {  // the decoder, layer by layer, then the sigmoid
    let h = Float32Array.from(z);
    for (const L of layers) {
      const o = new Float32Array(L.nout);
      for (let r = 0; r < L.nout; r++) {
        let s = L.b[r];
        const off = r * L.nin;
        for (let c = 0; c < L.nin; c++) s += L.W[off + c] * h[c];
        o[r] = L.relu ? Math.max(0, s) : s;
      }
      h = o;
    }
    return h.map(function (v) { return 1 / (1 + Math.exp(-v)); });
  }
  const pad = root.querySelector("canvas.vaelib-latent-pad"), image = root.querySelector("canvas.vaelib-latent-image");
  const readout = root.querySelector(".vaelib-latent-readout");
  const pc = pad.getContext("2d"), ic = image.getContext("2d");
  const colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function toPad(z) { return [(z[0] + limit) / (2 * limit) * pad.width, (limit - z[1]) / (2 * limit) * pad.height]; }
  function show(z) {
    pc.clearRect(0, 0, pad.width, pad.height);
    for (const p of spec.points) {
      const xy = toPad(p);
      pc.fillStyle = colors[p[2] %% 10];
      pc.fillRect(xy[0] - 1, xy[1] - 1, 2, 2);
    }
    const at = toPad(z);
    pc.strokeStyle = "#000"; pc.lineWidth = 1.5;
    pc.beginPath(); pc.arc(at[0], at[1], 6, 0, 2 * Math.PI); pc.stroke();
    const p = decode(z), pixels = ic.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const v = Math.round(255 * (1 - p[i]));  // ink is dark, as in the book's figures
      pixels.data[4 * i] = v; pixels.data[4 * i + 1] = v; pixels.data[4 * i + 2] = v; pixels.data[4 * i + 3] = 255;
    }
    ic.putImageData(pixels, 0, 0);
    root.dataset.z = JSON.stringify(z);
    readout.textContent = "z = (" + z[0].toFixed(2) + ", " + z[1].toFixed(2) + ")";
  }
  function pointer(event) {
    const box = pad.getBoundingClientRect();
    const u = (event.clientX - box.left) / box.width, v = (event.clientY - box.top) / box.height;
    show([-limit + 2 * limit * u, limit - 2 * limit * v]);
  }
  pad.addEventListener("pointermove", pointer);
  pad.addEventListener("pointerdown", pointer);
  show([0, 0]);
})();
"""


def static_latent_explorer(model, codes: Tensor | None = None, labels: Tensor | None = None,
                           limit: float = 3.0, max_points: int = 1_500):
    """A latent explorer for a 2-D VAE that runs in any browser, without a kernel.

    Returns an ``IPython.display.HTML`` block: a pad showing the latent plane
    (with ``codes`` coloured by ``labels``, if given) and a canvas where the
    decoder, exported with :func:`export_decoder` and run by a few lines of
    JavaScript, draws the image of the point under the pointer.
    """
    import hashlib
    import json

    from IPython.display import HTML

    if model.config.latent_dim != 2:
        raise ValueError(f"the static explorer needs a 2-D latent space, got latent_dim={model.config.latent_dim}")
    decoder = export_decoder(model)
    points = []
    if codes is not None:
        keep = torch.linspace(0, len(codes) - 1, min(max_points, len(codes))).long()
        inside = codes[keep].abs().amax(dim=1) < limit
        for (z1, z2), label in zip(codes[keep][inside].tolist(), labels[keep][inside].tolist()):
            points.append([round(z1, 2), round(z2, 2), int(label)])
    spec = json.dumps({"limit": limit, "decoder": decoder, "points": points}, separators=(",", ":"))
    element_id = "vaelib-explorer-" + hashlib.sha1(spec.encode()).hexdigest()[:10]
    html = f"""
<div id="{element_id}" class="vaelib-static-explorer" style="display:flex;gap:24px;align-items:center;flex-wrap:wrap">
  <div>
    <canvas class="vaelib-latent-pad" width="280" height="280"
            style="border:1px solid #999;cursor:crosshair;touch-action:none;width:280px;height:280px"></canvas>
    <div class="vaelib-latent-readout" style="font-family:monospace;font-size:13px"></div>
  </div>
  <canvas class="vaelib-latent-image" width="{decoder['side']}" height="{decoder['side']}"
          style="width:168px;height:168px;image-rendering:pixelated;border:1px solid #999"></canvas>
  <script type="application/json">{spec}</script>
  <script>{_STATIC_EXPLORER_JS % {"id": element_id}}</script>
</div>
"""
    return HTML(html)
