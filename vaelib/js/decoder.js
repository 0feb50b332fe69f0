/*
 * vaelib decoder: runs an exported MLP decoder in the page, for the kernel-free explorers.
 *
 * Shipped with the Python package (vaelib/js/decoder.js); vaelib.static puts it in
 * the page before each explorer's script.  It defines window.vaelibDecoder:
 *
 *   read(spec)              the export of vaelib.static.export_decoder (format
 *                           "vaelib-mlp-decoder/1") -> layers ready to run
 *   explorer(root)          an explorer's JSON spec (in its root element) and its
 *                           decoder's layers: {spec, layers}
 *   decode(layers, z)       a code (array of numbers) -> pixel probabilities
 *   draw(canvas, p, side)   pixel probabilities -> the canvas, ink dark on white,
 *                           as in the book's figures
 *
 * The export: Linear layers whose weights are int8, row-major [out, in],
 * base64-encoded, with one float scale per row; ReLU between layers as each
 * layer's "activation" says; a sigmoid at the end.
 */
(function () {
  "use strict";

  if (typeof window.vaelibDecoder === "object") {
    return; // defined by an earlier explorer on the same page
  }

  // One exported layer -> float32 weights [out * in] (row-major), biases [out].
  function readLayer(layer) {
    var bytes = Uint8Array.from(atob(layer.weight), function (c) {
      return c.charCodeAt(0);
    });
    var quantized = new Int8Array(bytes.buffer);
    var weights = new Float32Array(layer.out * layer.in);
    for (var row = 0; row < layer.out; row++) {
      for (var col = 0; col < layer.in; col++) {
        var k = row * layer.in + col;
        weights[k] = quantized[k] * layer.scale[row];
      }
    }
    return {
      weights: weights,
      bias: Float32Array.from(layer.bias),
      nIn: layer.in,
      nOut: layer.out,
      relu: layer.activation === "relu",
    };
  }

  function read(spec) {
    return spec.layers.map(readLayer);
  }

  // An explorer's root element -> its spec (the JSON script inside it) and its decoder, read.
  function explorer(root) {
    var spec = JSON.parse(root.querySelector("script[type='application/json']").textContent);
    return {spec: spec, layers: read(spec.decoder)};
  }

  // A code z (array of numbers) -> pixel probabilities, through every layer, then the sigmoid.
  function decode(layers, z) {
    var h = Float32Array.from(z);
    for (var i = 0; i < layers.length; i++) {
      var layer = layers[i];
      var out = new Float32Array(layer.nOut);
      for (var row = 0; row < layer.nOut; row++) {
        var sum = layer.bias[row];
        var offset = row * layer.nIn;
        for (var col = 0; col < layer.nIn; col++) {
          sum += layer.weights[offset + col] * h[col];
        }
        out[row] = layer.relu ? Math.max(0, sum) : sum;
      }
      h = out;
    }
    return h.map(function (v) {
      return 1 / (1 + Math.exp(-v));
    });
  }

  // Pixel probabilities [side * side] -> the canvas (side x side pixels), ink dark on white.
  function draw(canvas, probabilities, side) {
    var context = canvas.getContext("2d");
    var pixels = context.createImageData(side, side);
    for (var i = 0; i < side * side; i++) {
      var gray = Math.round(255 * (1 - probabilities[i]));
      pixels.data[4 * i] = gray;
      pixels.data[4 * i + 1] = gray;
      pixels.data[4 * i + 2] = gray;
      pixels.data[4 * i + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
  }

  window.vaelibDecoder = {read: read, explorer: explorer, decode: decode, draw: draw};
})();
