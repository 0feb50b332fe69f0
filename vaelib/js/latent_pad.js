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
 *                                             and "classes" for a conditional VAE;
 *                                             optionally "density" and "rings"
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
 *
 * With "density" ({"low", "high", "steps", "logq", "logp"}: a square grid of
 * steps x steps points from low to high on both axes, the log-densities of the
 * aggregate posterior q(z) and of the prior p(z) row by row, row i at the i-th
 * z2), the pad is shaded by q(z) over the 8 nats below its peak, and the
 * readout adds both log-densities at the grid point nearest the pointer.
 * "rings" lists the radii of dashed circles drawn around the origin.
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
  var SHADE_NATS = 8; // the density's shading spans this many nats below its peak

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

    // The grid point of the density map nearest the code z: its index in the row-major lists.
    function nearest(z) {
      var d = spec.density;
      var step = (d.high - d.low) / (d.steps - 1);
      var j = Math.min(d.steps - 1, Math.max(0, Math.round((z[0] - d.low) / step)));
      var i = Math.min(d.steps - 1, Math.max(0, Math.round((z[1] - d.low) / step)));
      return i * d.steps + j;
    }

    // The pad's background: each pixel white, tinted blue by q(z) at the nearest grid point
    // (computed once; the density does not change).
    var background = null;
    function drawDensity() {
      if (background === null) {
        var d = spec.density;
        var peak = Math.max.apply(null, d.logq);
        background = padContext.createImageData(pad.width, pad.height);
        for (var y = 0; y < pad.height; y++) {
          for (var x = 0; x < pad.width; x++) {
            var z = [-limit + (2 * limit * (x + 0.5)) / pad.width, limit - (2 * limit * (y + 0.5)) / pad.height];
            var shade = Math.max(0, Math.min(1, 1 - (peak - d.logq[nearest(z)]) / SHADE_NATS));
            var alpha = 0.6 * shade; // matplotlib's tab:blue (31, 119, 180) over white
            var at = 4 * (y * pad.width + x);
            background.data[at] = Math.round(255 - alpha * (255 - 31));
            background.data[at + 1] = Math.round(255 - alpha * (255 - 119));
            background.data[at + 2] = Math.round(255 - alpha * (255 - 180));
            background.data[at + 3] = 255;
          }
        }
      }
      padContext.putImageData(background, 0, 0);
    }

    function drawRings() {
      var centre = toPad([0, 0]);
      padContext.strokeStyle = "#444";
      padContext.lineWidth = 1;
      padContext.setLineDash([4, 3]);
      spec.rings.forEach(function (radius) {
        padContext.beginPath();
        padContext.arc(centre[0], centre[1], (radius / (2 * limit)) * pad.width, 0, 2 * Math.PI);
        padContext.stroke();
      });
      padContext.setLineDash([]);
    }

    function drawPad(z) {
      padContext.clearRect(0, 0, pad.width, pad.height);
      if (spec.density) {
        drawDensity();
      }
      if (spec.rings) {
        drawRings();
      }
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
      var text = "z = (" + z[0].toFixed(2) + ", " + z[1].toFixed(2) + ")";
      if (spec.density) {
        var k = nearest(z);
        text += ", log p(z) = " + spec.density.logp[k].toFixed(1) + ", log q(z) = " + spec.density.logq[k].toFixed(1);
      }
      readout.textContent = text;
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
