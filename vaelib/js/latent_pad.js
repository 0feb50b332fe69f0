/*
 * vaelib latent pad: the kernel-free latent explorer of a 2-D VAE.
 *
 * Shipped with the Python package (vaelib/js/latent_pad.js) and embedded by
 * vaelib.static.static_latent_explorer, which emits, inside one root element:
 *
 *   <canvas class="vaelib-latent-pad">        the latent plane, [-limit, limit]^2
 *   <div class="vaelib-latent-readout">       the code under the pointer, as text
 *   <canvas class="vaelib-latent-image">      the decoded image, side x side pixels
 *   <select class="vaelib-latent-label">      only for a conditional VAE: the label
 *   <script type="application/json">          {"limit", "decoder", "points", "start"},
 *                                             and "classes" for a conditional VAE
 *
 * then vaelib/js/decoder.js and this file, then one call: vaelibLatentPad(rootElement).
 *
 * The decoder, in the format "vaelib-mlp-decoder/1" (see
 * vaelib.static.export_decoder), runs in vaelib/js/decoder.js, which the page
 * holds before this file.
 *
 * Moving the pointer over the pad decodes the code under it, draws the image
 * (ink dark on white, as in the book's figures) and stores the code as JSON
 * in the root's data-z attribute.  The pad opens on the code "start".
 *
 * A conditional VAE's decoder takes the label too: its input is the code
 * followed by the one-hot vector of the label chosen in the selector (of
 * "classes" entries), as vaelib.models.CVAE.decode does; the label is stored
 * in the root's data-label attribute.
 */
(function () {
  "use strict";

  if (typeof window.vaelibLatentPad === "function") {
    return; // defined by an earlier explorer on the same page
  }

  // Colours of the ten classes (matplotlib's tab10), for the points on the pad.
  var CLASS_COLORS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  ];
  var PAD_POINT_SIZE = 2; // pixels
  var CURSOR_RADIUS = 6; // pixels

  window.vaelibLatentPad = function (root) {
    var decoder = window.vaelibDecoder; // vaelib/js/decoder.js, earlier in the page
    var parts = decoder.explorer(root);
    var spec = parts.spec;
    var layers = parts.layers;
    var limit = spec.limit;
    var side = spec.decoder.side;

    var pad = root.querySelector("canvas.vaelib-latent-pad");
    var image = root.querySelector("canvas.vaelib-latent-image");
    var readout = root.querySelector(".vaelib-latent-readout");
    var labelSelect = root.querySelector("select.vaelib-latent-label"); // a conditional VAE's
    var padContext = pad.getContext("2d");
    var current = spec.start || [0, 0];

    // The decoder's input: the code, then for a conditional VAE the chosen label's one-hot vector.
    function decoderInput(z) {
      if (!spec.classes) {
        return z;
      }
      var oneHot = [];
      for (var k = 0; k < spec.classes; k++) {
        oneHot.push(k === labelSelect.selectedIndex ? 1 : 0);
      }
      return z.concat(oneHot);
    }

    // A code [z1, z2] -> pixel coordinates on the pad (z2 points up).
    function toPad(z) {
      return [((z[0] + limit) / (2 * limit)) * pad.width, ((limit - z[1]) / (2 * limit)) * pad.height];
    }

    function drawPad(z) {
      padContext.clearRect(0, 0, pad.width, pad.height);
      spec.points.forEach(function (point) { // [z1, z2, label]
        var xy = toPad(point);
        padContext.fillStyle = CLASS_COLORS[point[2] % CLASS_COLORS.length];
        padContext.fillRect(xy[0] - PAD_POINT_SIZE / 2, xy[1] - PAD_POINT_SIZE / 2, PAD_POINT_SIZE, PAD_POINT_SIZE);
      });
      var at = toPad(z);
      padContext.strokeStyle = "#000";
      padContext.lineWidth = 1.5;
      padContext.beginPath();
      padContext.arc(at[0], at[1], CURSOR_RADIUS, 0, 2 * Math.PI);
      padContext.stroke();
    }

    function drawImage(z) {
      decoder.draw(image, decoder.decode(layers, decoderInput(z)), side);
    }

    function show(z) {
      current = z;
      drawPad(z);
      drawImage(z);
      root.dataset.z = JSON.stringify(z);
      if (labelSelect) {
        root.dataset.label = String(labelSelect.selectedIndex);
      }
      readout.textContent = "z = (" + z[0].toFixed(2) + ", " + z[1].toFixed(2) + ")";
    }

    // The pointer's position on the pad -> the code there.
    function onPointer(event) {
      var box = pad.getBoundingClientRect();
      var u = (event.clientX - box.left) / box.width;
      var v = (event.clientY - box.top) / box.height;
      show([-limit + 2 * limit * u, limit - 2 * limit * v]);
    }

    pad.addEventListener("pointermove", onPointer);
    pad.addEventListener("pointerdown", onPointer);
    if (labelSelect) {
      labelSelect.addEventListener("change", function () {
        show(current);
      });
    }
    show(current);
  };
})();
