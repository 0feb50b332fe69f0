/*
 * vaelib interpolation explorer: the path between the codes of two images,
 * linear or spherical, decoded in the page as a slider moves along it.
 *
 * Shipped with the Python package (vaelib/js/interpolation.js) and embedded by
 * vaelib.static.static_interpolation_explorer, which emits, inside one root element:
 *
 *   <select class="vaelib-interpolation-from">   the image the path starts from
 *   <select class="vaelib-interpolation-to">     the image it ends at
 *   <select class="vaelib-interpolation-path">   "linear" or "spherical"
 *   <input type="range" class="vaelib-interpolation-t">   t, from 0 to 1
 *   <canvas class="vaelib-interpolation-image">  the decoded image, side x side pixels
 *   <div class="vaelib-interpolation-readout">   t and the norm of the code, as text
 *   <script type="application/json">             {"decoder", "ends", "from", "to"}
 *
 * then vaelib/js/decoder.js and this file, then one call: vaelibInterpolation(rootElement).
 *
 * The two paths are those of vaelib.latent: linear, (1 - t) z0 + t z1; spherical,
 * along the great circle between the two directions while the norm goes
 * linearly from |z0| to |z1|.  The code shown is stored as JSON in the root's
 * data-z attribute.
 */
(function () {
  "use strict";

  if (typeof window.vaelibInterpolation === "function") {
    return; // defined by an earlier explorer on the same page
  }

  function norm(z) {
    return Math.sqrt(z.reduce(function (sum, v) { return sum + v * v; }, 0));
  }

  function lerp(z0, z1, t) {
    return z0.map(function (v, j) { return (1 - t) * v + t * z1[j]; });
  }

  // As vaelib.latent.slerp; where the direction is undefined (opposite codes)
  // or constant (the same direction), the path is the straight one rescaled.
  function slerp(z0, z1, t) {
    var n0 = norm(z0);
    var n1 = norm(z1);
    var length = (1 - t) * n0 + t * n1;
    var cos = z0.reduce(function (sum, v, j) { return sum + (v / n0) * (z1[j] / n1); }, 0);
    cos = Math.max(-1, Math.min(1, cos));
    var omega = Math.acos(cos);
    if (omega < 1e-6 || cos < -1 + 1e-6) {
      var straight = lerp(z0, z1, t);
      var n = norm(straight) || 1;
      return straight.map(function (v) { return (v / n) * length; });
    }
    var a = Math.sin((1 - t) * omega) / Math.sin(omega);
    var b = Math.sin(t * omega) / Math.sin(omega);
    return z0.map(function (v, j) { return (a * (v / n0) + b * (z1[j] / n1)) * length; });
  }

  window.vaelibInterpolation = function (root) {
    var decoder = window.vaelibDecoder; // vaelib/js/decoder.js, earlier in the page
    var parts = decoder.explorer(root);
    var spec = parts.spec;
    var layers = parts.layers;
    var from = root.querySelector("select.vaelib-interpolation-from");
    var to = root.querySelector("select.vaelib-interpolation-to");
    var path = root.querySelector("select.vaelib-interpolation-path");
    var slider = root.querySelector("input.vaelib-interpolation-t");
    var image = root.querySelector("canvas.vaelib-interpolation-image");
    var readout = root.querySelector(".vaelib-interpolation-readout");

    function show() {
      var z0 = spec.ends[from.selectedIndex].code;
      var z1 = spec.ends[to.selectedIndex].code;
      var t = parseFloat(slider.value);
      var z = path.value === "linear" ? lerp(z0, z1, t) : slerp(z0, z1, t);
      decoder.draw(image, decoder.decode(layers, z), spec.decoder.side);
      root.dataset.z = JSON.stringify(z);
      readout.textContent = path.value + " path, t = " + t.toFixed(2) + ": |z| = " + norm(z).toFixed(2) +
        " (ends " + norm(z0).toFixed(2) + " and " + norm(z1).toFixed(2) + ")";
    }

    from.selectedIndex = spec.from;
    to.selectedIndex = spec.to;
    [from, to, path].forEach(function (control) { control.addEventListener("change", show); });
    slider.addEventListener("input", show);
    show();
  };
})();
