"""What an explorer puts in the page besides its decoder: the scripts shipped with the
package (``vaelib/js/``), and the HTML that holds them, an explorer's controls and its canvas."""

from __future__ import annotations

import hashlib
from importlib import resources

__all__ = ["decoder_js", "gaussian_js", "interpolation_js", "latent_pad_js", "traversal_js"]


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
