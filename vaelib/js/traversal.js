/*
 * vaelib traversal explorer: a latent traversal that runs in the page, without a kernel.
 *
 * Shipped with the Python package (vaelib/js/traversal.js) and embedded by
 * vaelib.static.static_traversal_explorer, which emits, inside one root element:
 *
 *   <select class="vaelib-traversal-dim">      the latent dimension to move
 *   <select class="vaelib-traversal-start">    the image whose code the traversal starts from
 *   <input type="range" class="vaelib-traversal-value">   the value of that dimension
 *   <canvas class="vaelib-traversal-image">    the decoded image, side x side pixels
 *   <div class="vaelib-traversal-readout">     the dimension and its value, as text
 *   <script type="application/json">           {"decoder", "starts", "dims", "limit"}
 *
 * then vaelib/js/decoder.js and this file, then one call: vaelibTraversal(rootElement).
 *
 * The code shown is the chosen start's code with one coordinate replaced by the
 * slider's value; it is stored as JSON in the root's data-z attribute.
 */
(function () {
  "use strict";

  if (typeof window.vaelibTraversal === "function") {
    return; // defined by an earlier explorer on the same page
  }

  window.vaelibTraversal = function (root) {
    var decoder = window.vaelibDecoder; // vaelib/js/decoder.js, earlier in the page
    var parts = decoder.explorer(root);
    var spec = parts.spec;
    var layers = parts.layers;
    var dimSelect = root.querySelector("select.vaelib-traversal-dim");
    var startSelect = root.querySelector("select.vaelib-traversal-start");
    var slider = root.querySelector("input.vaelib-traversal-value");
    var image = root.querySelector("canvas.vaelib-traversal-image");
    var readout = root.querySelector(".vaelib-traversal-readout");

    function show() {
      var dim = spec.dims[dimSelect.selectedIndex].index;
      var z = spec.starts[startSelect.selectedIndex].code.slice();
      z[dim] = parseFloat(slider.value);
      decoder.draw(image, decoder.decode(layers, z), spec.decoder.side);
      root.dataset.z = JSON.stringify(z);
      readout.textContent = "z" + (dim + 1) + " = " + z[dim].toFixed(2);
    }

    // A new dimension or start: put the slider at that start's own value of it.
    function restart() {
      var dim = spec.dims[dimSelect.selectedIndex].index;
      slider.value = spec.starts[startSelect.selectedIndex].code[dim];
      show();
    }

    dimSelect.addEventListener("change", restart);
    startSelect.addEventListener("change", restart);
    slider.addEventListener("input", show);
    restart();
  };
})();
