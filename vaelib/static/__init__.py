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

Layout, every public name re-exported here (``static.static_latent_explorer``):

- ``export``: the decoder's export format, written and read back
- ``page``: the scripts of ``vaelib/js/`` and the HTML that holds an explorer
- ``explorers``: the four explorers
"""

from .explorers import (
    static_gaussian_explorer,
    static_interpolation_explorer,
    static_latent_explorer,
    static_traversal_explorer,
)
from .export import FORMAT, decoder_from_export, export_decoder
from .page import decoder_js, gaussian_js, interpolation_js, latent_pad_js, traversal_js

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
