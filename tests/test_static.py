"""The kernel-free explorers: the exported decoder, the emitted HTML and its JavaScript."""

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from vaelib import aggregate_posterior, models, static

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

# Runs the page's script in node with a stand-in for the few DOM calls it makes,
# moves the pointer to (u, v) on the pad, and prints what the page would show.
FAKE_PAGE_JS = r"""
const vm = require("vm");
const fs = require("fs");
const [script, specText, elementId, u, v, label] = JSON.parse(fs.readFileSync(0, "utf8"));

function canvas(width, height) {
  const listeners = {};
  const context = {
    clearRect() {}, fillRect() {}, beginPath() {}, arc() {}, stroke() {}, setLineDash() {},
    createImageData(w, h) { return {data: new Uint8ClampedArray(4 * w * h)}; },
    putImageData(image) { this.shown = image; },
  };
  return {
    width, height, listeners, context,
    getContext() { return context; },
    getBoundingClientRect() { return {left: 10, top: 20, width, height}; },
    addEventListener(type, listener) { listeners[type] = listener; },
  };
}

const pad = canvas(280, 280), image = canvas(28, 28), readout = {textContent: ""};
// A conditional VAE's label selector (label is null for an unconditional one's page).
const labelSelect = label === null ? null : {
  selectedIndex: JSON.parse(specText).classes - 1, listeners: {},
  addEventListener(type, listener) { this.listeners[type] = listener; },
};
const root = {
  id: elementId, dataset: {},
  querySelector(selector) {
    if (selector === "script[type='application/json']") return {textContent: specText};
    if (selector === "canvas.vaelib-latent-pad") return pad;
    if (selector === "canvas.vaelib-latent-image") return image;
    if (selector === ".vaelib-latent-readout") return readout;
    if (selector === "select.vaelib-latent-label") return labelSelect;
    throw new Error("unexpected selector " + selector);
  },
};
const document = {getElementById(id) { if (id !== elementId) throw new Error("no element " + id); return root; }};
const page = {document, atob, JSON, Math};
page.window = page;
vm.createContext(page);
vm.runInContext(script, page);
const first = page.vaelibLatentPad;
vm.runInContext(script, page);  // a second explorer on the same page
const initial = JSON.parse(root.dataset.z);
pad.listeners.pointermove({clientX: 10 + u * 280, clientY: 20 + v * 280});
if (labelSelect) {
  labelSelect.selectedIndex = label;
  labelSelect.listeners.change();
}
console.log(JSON.stringify({
  label: root.dataset.label,
  definedOnce: first === page.vaelibLatentPad,
  initial,
  z: JSON.parse(root.dataset.z),
  readout: readout.textContent,
  red: Array.from(image.context.shown.data.filter((_, i) => i % 4 === 0)),
}));
"""


def small_vae(latent_dim, seed=0):
    torch.manual_seed(seed)
    return models.VAE(models.MLPConfig(hidden_dims=(32,), latent_dim=latent_dim))


def explorer_html(model, n=30):
    return static.static_latent_explorer(model, torch.randn(n, 2), torch.arange(n) % 10).data


def embedded_spec(html):
    return json.loads(re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1))


def page_script(html):
    return re.search(r"<script>(.*?)</script>", html, re.S).group(1)


def run_pad(html, u, v, label=None):
    """Run a latent pad's page script in node (FAKE_PAGE_JS): point at (u, v), then, for a
    conditional VAE's pad, pick ``label``; what the page would show, as a dict."""
    spec_text = re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1)
    element_id = re.search(r'<div id="([^"]+)"', html).group(1)
    payload = json.dumps([page_script(html), spec_text, element_id, u, v, label])
    result = subprocess.run([NODE, "-e", FAKE_PAGE_JS], input=payload, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def js_file_text():
    return (resources.files("vaelib") / "js" / "latent_pad.js").read_text(encoding="utf-8")


def test_exported_decoder_reproduces_the_model():
    model = small_vae(2)
    spec = static.export_decoder(model)
    assert spec["format"] == "vaelib-mlp-decoder/1" and spec["side"] == 28
    assert [layer["activation"] for layer in spec["layers"]] == ["relu", "none"]
    assert json.loads(json.dumps(spec)) == spec  # JSON-ready
    decoder = static.decoder_from_export(spec)
    z = torch.randn(100, 2) * 2
    with torch.no_grad():
        assert (decoder(z) - torch.sigmoid(model.decode(z))).abs().max() < 0.01


def test_export_stores_weights_as_one_byte_each():
    spec = static.export_decoder(small_vae(2))
    sizes = [len(layer["weight"]) for layer in spec["layers"]]
    expected = [4 * -(-layer["in"] * layer["out"] // 3) for layer in spec["layers"]]  # base64 of in*out bytes
    assert sizes == expected


def test_only_mlp_decoders_can_be_exported():
    convolutional = SimpleNamespace(
        latent_dim=2,
        decoder=torch.nn.Sequential(torch.nn.Linear(2, 49), torch.nn.Unflatten(1, (1, 7, 7)), torch.nn.Upsample(4)),
    )
    with pytest.raises(TypeError, match="only MLP decoders"):
        static.export_decoder(convolutional)


def test_reading_back_checks_the_format():
    with pytest.raises(ValueError, match="not an exported vaelib decoder"):
        static.decoder_from_export({"format": "something-else", "layers": []})


def test_static_explorer_embeds_the_decoder_and_its_script():
    model = small_vae(2)
    html = explorer_html(model)
    spec = embedded_spec(html)
    assert spec["decoder"] == static.export_decoder(model) and spec["limit"] == 3.0
    assert 0 < len(spec["points"]) <= 30 and all(0 <= label < 10 for _, _, label in spec["points"])
    for name in ["vaelib-static-explorer", "vaelib-latent-pad", "vaelib-latent-image", "vaelib-latent-readout"]:
        assert f'class="{name}"' in html
    element_id = re.search(r'<div id="([^"]+)" class="vaelib-static-explorer"', html).group(1)
    script = page_script(html)
    assert js_file_text() in script
    assert script.strip().endswith(f'vaelibLatentPad(document.getElementById("{element_id}"));')


def test_static_explorer_html_has_no_placeholders_and_no_outside_resources():
    html = explorer_html(small_vae(2))
    assert "%(" not in html and "%%" not in html
    assert "src=" not in html and "http" not in html


def test_static_explorer_without_codes_has_an_empty_pad():
    spec = embedded_spec(static.static_latent_explorer(small_vae(2)).data)
    assert spec["points"] == [] and spec["start"] == [0.0, 0.0]


def test_static_explorer_opens_on_a_typical_code_not_the_origin():
    codes = torch.tensor([[1.25, -0.5], [0.0, 0.0]])
    html = static.static_latent_explorer(small_vae(2), codes, torch.tensor([3, 4])).data
    assert embedded_spec(html)["start"] == [1.25, -0.5]  # the first code, by default
    html = static.static_latent_explorer(small_vae(2), codes, start=torch.tensor([-1.0, 2.0])).data
    assert embedded_spec(html)["start"] == [-1.0, 2.0]
    html = static.static_latent_explorer(small_vae(2), start=(5.0, -0.5)).data
    assert embedded_spec(html)["start"] == [3.0, -0.5]  # outside the pad: onto its edge
    with pytest.raises(ValueError, match="finite 2-D code"):
        static.static_latent_explorer(small_vae(2), start=(1.0, 2.0, 3.0))
    assert "var current = spec.start || [0, 0];" in js_file_text()


def test_static_explorer_needs_a_2d_latent_space():
    with pytest.raises(ValueError, match="2-D"):
        static.static_latent_explorer(small_vae(3))


def test_the_javascript_is_shipped_with_the_package():
    js = resources.files("vaelib") / "js" / "latent_pad.js"
    assert js.is_file()
    text = js_file_text()
    assert "window.vaelibLatentPad = function (root)" in text
    assert "</script" not in text  # it is embedded in a <script> element


@needs_node
@pytest.mark.parametrize("u, v", [(0.25, 0.3), (0.8, 0.65)])
def test_the_page_script_decodes_like_pytorch(u, v):
    """Run the emitted script in node with a stand-in DOM: the image drawn for
    the point under the pointer matches the decoder read back in PyTorch."""
    model = small_vae(2, seed=1)
    html = explorer_html(model)
    shown = run_pad(html, u, v)
    assert shown["definedOnce"] and shown["initial"] == embedded_spec(html)["start"]
    limit = embedded_spec(html)["limit"]
    z = shown["z"]
    assert z == pytest.approx([-limit + 2 * limit * u, limit - 2 * limit * v], abs=1e-6)
    assert shown["readout"] == f"z = ({z[0]:.2f}, {z[1]:.2f})"
    decoder = static.decoder_from_export(embedded_spec(html)["decoder"])
    with torch.no_grad():
        expected = decoder(torch.tensor([z]))[0]
    drawn = 1 - torch.tensor(shown["red"], dtype=torch.float32) / 255
    assert drawn.shape == (784,) and (drawn - expected).abs().max() < 1 / 255


# -- the conditional explorer: a label selector beside the pad -------------------------


def small_cvae(latent_dim, seed=0):
    torch.manual_seed(seed)
    return models.CVAE(models.CVAEConfig(hidden_dims=(32,), latent_dim=latent_dim))


def test_a_conditional_explorer_offers_the_labels_and_opens_on_the_one_asked_for():
    model = small_cvae(2)
    names = [f"digit {k}" for k in range(10)]
    html = static.static_latent_explorer(model, torch.randn(20, 2), torch.arange(20) % 10, label=7, label_names=names)
    spec = embedded_spec(html.data)
    assert spec["classes"] == 10 and spec["decoder"]["layers"][0]["in"] == 2 + 10  # the code, then the one-hot
    options = re.findall(r"<option( selected)?>([^<]*)</option>", html.data)
    assert [name for _, name in options] == names and [name for sel, name in options if sel] == ["digit 7"]
    assert "spec.classes" in explorer_html(small_vae(2))  # the same script ...
    assert "<select" not in explorer_html(small_vae(2)).split("<script")[0]  # ... but no selector
    with pytest.raises(ValueError, match="label in 0..9"):
        static.static_latent_explorer(model, label=10)
    with pytest.raises(ValueError, match="10 label names"):
        static.static_latent_explorer(model, label_names=["a", "b"])


@needs_node
@pytest.mark.parametrize("label", [0, 3])
def test_the_conditional_page_decodes_the_chosen_label_like_pytorch(label):
    """Pick a point and a label in node's stand-in DOM: the drawn image is the model's
    decoder, read back from the export, run on the code with that label's one-hot vector."""
    model = small_cvae(2, seed=2)
    html = static.static_latent_explorer(model, torch.randn(30, 2), torch.arange(30) % 10, label=9).data
    shown = run_pad(html, 0.3, 0.6, label)
    assert shown["label"] == str(label)
    z = torch.tensor([shown["z"]])
    decoder = static.decoder_from_export(embedded_spec(html)["decoder"])
    with torch.no_grad():
        expected = decoder(torch.cat([z, torch.nn.functional.one_hot(torch.tensor([label]), 10).float()], 1))[0]
    drawn = 1 - torch.tensor(shown["red"], dtype=torch.float32) / 255
    assert (drawn - expected).abs().max() < 1 / 255
    # ... and the export is the model: the same image as model.decode_probs(z, label), up to the int8 weights.
    assert (drawn - model.decode_probs(z, label)[0]).abs().max() < 0.02


# -- the traversal explorer ------------------------------------------------------

# Runs the traversal page's script in node with a stand-in DOM: picks a dimension
# and a start, moves the slider, and prints what the page would show.
FAKE_TRAVERSAL_JS = r"""
const vm = require("vm");
const fs = require("fs");
const [script, specText, elementId, dimIndex, startIndex, value] = JSON.parse(fs.readFileSync(0, "utf8"));

function control() {
  const listeners = {};
  return {listeners, selectedIndex: 0, value: "0", addEventListener(type, f) { listeners[type] = f; }};
}
const context = {
  createImageData(w, h) { return {data: new Uint8ClampedArray(4 * w * h)}; },
  putImageData(image) { this.shown = image; },
};
const image = {getContext() { return context; }};
const dim = control(), start = control(), slider = control(), readout = {textContent: ""};
const root = {
  id: elementId, dataset: {},
  querySelector(selector) {
    const parts = {
      "script[type='application/json']": {textContent: specText},
      "select.vaelib-traversal-dim": dim, "select.vaelib-traversal-start": start,
      "input.vaelib-traversal-value": slider, "canvas.vaelib-traversal-image": image,
      ".vaelib-traversal-readout": readout,
    };
    if (!(selector in parts)) throw new Error("unexpected selector " + selector);
    return parts[selector];
  },
};
const document = {getElementById(id) { if (id !== elementId) throw new Error("no element " + id); return root; }};
const page = {document, atob, JSON, Math, parseFloat};
page.window = page;
vm.createContext(page);
vm.runInContext(script, page);
const initial = JSON.parse(root.dataset.z);
dim.selectedIndex = dimIndex; dim.listeners.change();
start.selectedIndex = startIndex; start.listeners.change();
const restarted = JSON.parse(root.dataset.z);
slider.value = String(value); slider.listeners.input();
console.log(JSON.stringify({
  initial, restarted, z: JSON.parse(root.dataset.z), readout: readout.textContent,
  red: Array.from(context.shown.data.filter((_, i) => i % 4 === 0)),
}));
"""


def traversal_html(model, starts, **kwargs):
    return static.static_traversal_explorer(model, starts, **kwargs).data


def test_traversal_explorer_embeds_the_decoder_the_starts_and_the_dimensions():
    model = small_vae(4)
    starts = torch.randn(3, 4)
    html = traversal_html(model, starts, start_labels=["a", "b", "c"], dims=[(2, "z3: x"), (0, "z1: y")])
    spec = embedded_spec(html)
    assert spec["decoder"] == static.export_decoder(model)
    assert [s["label"] for s in spec["starts"]] == ["a", "b", "c"]
    assert spec["starts"][1]["code"] == pytest.approx(starts[1].tolist(), abs=1e-4)
    assert spec["dims"] == [{"index": 2, "label": "z3: x"}, {"index": 0, "label": "z1: y"}]
    assert "<option>z3: x</option><option>z1: y</option>" in html
    assert static.decoder_js() in html and static.traversal_js() in html
    assert "src=" not in html and "http" not in html
    with pytest.raises(ValueError, match="shape"):
        static.static_traversal_explorer(model, torch.randn(3, 5))
    with pytest.raises(ValueError, match="among the model's latents"):
        static.static_traversal_explorer(model, starts, dims=[(7, "z8")])


@needs_node
def test_the_traversal_page_decodes_like_pytorch():
    """Pick dimension z1 of the second start and slide it to 1.5: the page draws what
    the exported decoder computes in PyTorch for that code."""
    model = small_vae(3, seed=2)
    starts = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
    html = traversal_html(model, starts, dims=[(2, "z3"), (0, "z1")])
    spec_text = re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1)
    element_id = re.search(r'<div id="([^"]+)"', html).group(1)
    script = re.findall(r"<script>(.*?)</script>", html, re.S)[0]
    payload = json.dumps([script, spec_text, element_id, 1, 1, 1.5])
    result = subprocess.run([NODE, "-e", FAKE_TRAVERSAL_JS], input=payload, capture_output=True, text=True, check=True)
    shown = json.loads(result.stdout)
    codes = embedded_spec(html)["starts"]
    assert shown["initial"] == pytest.approx(codes[0]["code"])  # opens on the first start, first dimension
    assert shown["restarted"] == pytest.approx(codes[1]["code"])  # a new start: the slider at its own value
    expected_z = list(codes[1]["code"])
    expected_z[0] = 1.5
    assert shown["z"] == pytest.approx(expected_z) and shown["readout"] == "z1 = 1.50"
    decoder = static.decoder_from_export(embedded_spec(html)["decoder"])
    with torch.no_grad():
        expected = decoder(torch.tensor([expected_z]))[0]
    drawn = 1 - torch.tensor(shown["red"], dtype=torch.float32) / 255
    assert (drawn - expected).abs().max() < 1.5 / 255


# -- the Gaussian explorer --------------------------------------------------------


def test_gaussian_explorer_embeds_its_settings_and_script_and_nothing_from_outside():
    html = static.static_gaussian_explorer(mu=1.0, sigma=0.6).data
    spec = embedded_spec(html)
    assert spec == {"xlim": [-6.0, 6.0], "others": [[0.0, 1.0]], "samples": 241}
    assert 'class="vaelib-gaussian-mu" min="-3" max="3" step="0.1" value="1.0"' in html
    assert 'class="vaelib-gaussian-sigma" min="0.2" max="3" step="0.1" value="0.6"' in html
    assert static.gaussian_js() in html and "src=" not in html and "http" not in html.replace(SVG_NS, "")
    assert "window.vaelibGaussian = function (root)" in static.gaussian_js()
    assert "</script" not in static.gaussian_js()
    with pytest.raises(ValueError, match="sliders' ranges"):
        static.static_gaussian_explorer(sigma=0.0)
    with pytest.raises(ValueError, match="increasing xlim"):
        static.static_gaussian_explorer(xlim=(1.0, -1.0))


SVG_NS = "http://www.w3.org/2000/svg"


@needs_node
@pytest.mark.parametrize("name", ["decoder.js", "latent_pad.js", "traversal.js", "gaussian.js", "interpolation.js"])
def test_node_accepts_every_script(name):
    with resources.as_file(resources.files("vaelib") / "js" / name) as path:
        subprocess.run([NODE, "--check", str(Path(path))], check=True, capture_output=True)


# -- the interpolation explorer -----------------------------------------------------

# Runs the interpolation page's script in node with a stand-in DOM: picks the two
# ends and the path, moves t, and prints what the page would show.
FAKE_INTERPOLATION_JS = r"""
const vm = require("vm");
const fs = require("fs");
const [script, specText, elementId, fromIndex, toIndex, path, t] = JSON.parse(fs.readFileSync(0, "utf8"));

function control(value) {
  const listeners = {};
  return {listeners, selectedIndex: 0, value, addEventListener(type, f) { listeners[type] = f; }};
}
const context = {
  createImageData(w, h) { return {data: new Uint8ClampedArray(4 * w * h)}; },
  putImageData(image) { this.shown = image; },
};
const image = {getContext() { return context; }};
const from = control(""), to = control(""), kind = control("spherical"), slider = control("0.5");
const readout = {textContent: ""};
const root = {
  id: elementId, dataset: {},
  querySelector(selector) {
    const parts = {
      "script[type='application/json']": {textContent: specText},
      "select.vaelib-interpolation-from": from, "select.vaelib-interpolation-to": to,
      "select.vaelib-interpolation-path": kind, "input.vaelib-interpolation-t": slider,
      "canvas.vaelib-interpolation-image": image, ".vaelib-interpolation-readout": readout,
    };
    if (!(selector in parts)) throw new Error("unexpected selector " + selector);
    return parts[selector];
  },
};
const document = {getElementById(id) { if (id !== elementId) throw new Error("no element " + id); return root; }};
const page = {document, atob, JSON, Math, parseFloat};
page.window = page;
vm.createContext(page);
vm.runInContext(script, page);
const initial = {from: from.selectedIndex, to: to.selectedIndex, z: JSON.parse(root.dataset.z)};
from.selectedIndex = fromIndex; from.listeners.change();
to.selectedIndex = toIndex; to.listeners.change();
kind.value = path; kind.listeners.change();
slider.value = String(t); slider.listeners.input();
console.log(JSON.stringify({
  initial, z: JSON.parse(root.dataset.z), readout: readout.textContent,
  red: Array.from(context.shown.data.filter((_, i) => i % 4 === 0)),
}));
"""


def interpolation_html(model, ends, **kwargs):
    return static.static_interpolation_explorer(model, ends, [f"digit {k}" for k in range(len(ends))], **kwargs).data


def test_interpolation_explorer_embeds_the_decoder_and_the_ends():
    model = small_vae(4)
    ends = torch.randn(3, 4)
    html = interpolation_html(model, ends, start=(2, 0))
    spec = embedded_spec(html)
    assert spec["decoder"] == static.export_decoder(model)
    assert spec["from"] == 2 and spec["to"] == 0
    assert spec["ends"][1]["code"] == pytest.approx(ends[1].tolist(), abs=1e-4)
    assert "<option selected>spherical</option><option>linear</option>" in html
    assert static.decoder_js() in html and static.interpolation_js() in html
    assert "src=" not in html and "http" not in html
    with pytest.raises(ValueError, match="shape"):
        static.static_interpolation_explorer(model, torch.randn(1, 4), ["a"])
    with pytest.raises(ValueError, match="nonzero"):
        static.static_interpolation_explorer(model, torch.zeros(2, 4), ["a", "b"])
    with pytest.raises(ValueError, match="two different ends"):
        static.static_interpolation_explorer(model, ends, ["a", "b", "c"], start=(1, 1))
    with pytest.raises(ValueError, match="path must be"):
        static.static_interpolation_explorer(model, ends, ["a", "b", "c"], path="curved")


@needs_node
@pytest.mark.parametrize("path, step", [("spherical", 3), ("linear", 8)])
def test_the_interpolation_page_follows_vaelibs_paths_and_decodes_like_pytorch(path, step):
    """Pick ends 3 and 1 and a path, set t to a step of an 11-step path: the page's code
    is vaelib.latent's, and it draws what the exported decoder computes for it."""
    from vaelib import latent

    model = small_vae(5, seed=3)
    ends = torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    html = interpolation_html(model, ends)
    spec_text = re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1)
    element_id = re.search(r'<div id="([^"]+)"', html).group(1)
    script = re.findall(r"<script>(.*?)</script>", html, re.S)[0]
    payload = json.dumps([script, spec_text, element_id, 3, 1, path, step / 10])
    result = subprocess.run(
        [NODE, "-e", FAKE_INTERPOLATION_JS], input=payload, capture_output=True, text=True, check=True
    )
    shown = json.loads(result.stdout)
    codes = torch.tensor([end["code"] for end in embedded_spec(html)["ends"]])
    assert shown["initial"]["from"] == 0 and shown["initial"]["to"] == 1
    assert shown["initial"]["z"] == pytest.approx(latent.slerp(codes[0], codes[1], 11)[5].tolist(), abs=1e-5)
    expected_z = (latent.slerp if path == "spherical" else latent.lerp)(codes[3], codes[1], 11)[step]
    assert shown["z"] == pytest.approx(expected_z.tolist(), abs=1e-5)
    assert shown["readout"].startswith(f"{path} path, t = {step / 10:.2f}: |z| = {expected_z.norm():.2f}")
    decoder = static.decoder_from_export(embedded_spec(html)["decoder"])
    with torch.no_grad():
        expected = decoder(expected_z[None])[0]
    drawn = 1 - torch.tensor(shown["red"], dtype=torch.float32) / 255
    assert (drawn - expected).abs().max() < 1.5 / 255


def density_explorer(steps=31):
    model = small_vae(2)
    density = aggregate_posterior.density_map(model, torch.rand(50, 784), extent=3.0, steps=steps)
    html = static.static_latent_explorer(model, density=density, rings=(1, 2, 3)).data
    return html, density


def test_the_explorer_embeds_a_density_map_and_rings():
    html, density = density_explorer()
    spec = embedded_spec(html)["density"]
    assert (spec["low"], spec["high"], spec["steps"]) == (-3.0, 3.0, 31)
    assert len(spec["logq"]) == len(spec["logp"]) == 31 * 31
    assert spec["logp"][15 * 31 + 15] == round(float(density.log_prior[15, 15]), 1)
    assert embedded_spec(html)["rings"] == [1.0, 2.0, 3.0]
    assert "density" not in embedded_spec(explorer_html(small_vae(2)))
    lopsided = aggregate_posterior.DensityMap(torch.zeros(3), torch.zeros(4), torch.zeros(4, 3), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="square DensityMap"):
        static.static_latent_explorer(small_vae(2), density=lopsided)


@needs_node
@pytest.mark.parametrize("u, v", [(0.25, 0.3), (0.91, 0.06)])
def test_the_readout_gives_both_log_densities_under_the_pointer(u, v):
    html, density = density_explorer()
    shown = run_pad(html, u, v)
    z1, z2 = -3 + 6 * u, 3 - 6 * v
    i, j = round((z2 + 3) / 0.2), round((z1 + 3) / 0.2)  # the nearest grid point: row z2, column z1
    expected = (
        f"z = ({z1:.2f}, {z2:.2f}), log p(z) = {float(density.log_prior[i, j]):.1f}, "
        f"log q(z) = {float(density.log_aggregate[i, j]):.1f}"
    )
    assert shown["readout"] == expected
