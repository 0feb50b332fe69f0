/*
 * vaelib Gaussian explorer: the bell curve of N(mu, sigma^2), redrawn in the
 * page as two sliders move, without a kernel.
 *
 * Shipped with the Python package (vaelib/js/gaussian.js) and embedded by
 * vaelib.static.static_gaussian_explorer, which emits, inside one root element:
 *
 *   <input type="range" class="vaelib-gaussian-mu">      the mean
 *   <input type="range" class="vaelib-gaussian-sigma">   the standard deviation
 *   <svg class="vaelib-gaussian-plot" viewBox="0 0 W H">  the plot, drawn here
 *   <div class="vaelib-gaussian-readout">                 mu, sigma and the peak, as text
 *   <script type="application/json">                     {"xlim", "others", "samples"}
 *
 * then this file, then one call: vaelibGaussian(rootElement).
 *
 * The plot: the density of N(mu, sigma^2) as a polyline of `samples` points
 * over xlim (class vaelib-gaussian-curve), each pair in `others` drawn thin for
 * comparison (vaelib-gaussian-other), and the areas within one and two
 * standard deviations of the mean shaded (vaelib-gaussian-band-1, -band-2:
 * 68.3% and 95.4% of the probability).  The y axis reaches 1.2 times the
 * highest peak, as in vaelib.plotting.normal_curve.  The mapping from data to
 * SVG coordinates is stored as JSON in the root's data-view attribute, so that
 * a test can read the drawn curve back as numbers.
 */
(function () {
  "use strict";

  if (typeof window.vaelibGaussian === "function") {
    return; // defined by an earlier explorer on the same page
  }

  var SVG = "http://www.w3.org/2000/svg";

  function density(x, mu, sigma) {
    var u = (x - mu) / sigma;
    return Math.exp(-0.5 * u * u) / (sigma * Math.sqrt(2 * Math.PI));
  }

  function element(parent, name, attributes, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    if (text !== undefined) {
      node.textContent = text;
    }
    parent.appendChild(node);
    return node;
  }

  window.vaelibGaussian = function (root) {
    var spec = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
    var svg = root.querySelector("svg.vaelib-gaussian-plot");
    var muSlider = root.querySelector("input.vaelib-gaussian-mu");
    var sigmaSlider = root.querySelector("input.vaelib-gaussian-sigma");
    var readout = root.querySelector(".vaelib-gaussian-readout");
    var width = svg.viewBox.baseVal.width;
    var height = svg.viewBox.baseVal.height;
    var box = { left: 52, right: width - 12, top: 14, bottom: height - 36 };
    var xmin = spec.xlim[0];
    var xmax = spec.xlim[1];

    function draw() {
      var mu = parseFloat(muSlider.value);
      var sigma = parseFloat(sigmaSlider.value);
      var peaks = [1 / (sigma * Math.sqrt(2 * Math.PI))].concat(
        spec.others.map(function (other) {
          return 1 / (other[1] * Math.sqrt(2 * Math.PI));
        })
      );
      var ymax = 1.2 * Math.max.apply(null, peaks);
      var px = function (x) {
        return box.left + ((x - xmin) / (xmax - xmin)) * (box.right - box.left);
      };
      var py = function (y) {
        return box.bottom - (y / ymax) * (box.bottom - box.top);
      };
      var curve = function (m, s, from, to) {
        var points = [];
        for (var i = 0; i < spec.samples; i++) {
          var x = from + ((to - from) * i) / (spec.samples - 1);
          points.push(px(x).toFixed(2) + "," + py(density(x, m, s)).toFixed(2));
        }
        return points;
      };

      while (svg.firstChild) {
        svg.removeChild(svg.firstChild);
      }
      // Shaded bands: within two standard deviations, then within one, over it.
      [[2, "vaelib-gaussian-band-2", 0.12], [1, "vaelib-gaussian-band-1", 0.22]].forEach(function (band) {
        var from = Math.max(xmin, mu - band[0] * sigma);
        var to = Math.min(xmax, mu + band[0] * sigma);
        var outline = curve(mu, sigma, from, to);
        outline.push(px(to).toFixed(2) + "," + py(0).toFixed(2), px(from).toFixed(2) + "," + py(0).toFixed(2));
        element(svg, "polygon", { class: band[1], points: outline.join(" "), fill: "#4C72B0", "fill-opacity": band[2] });
      });
      // Axes, ticks and labels.
      element(svg, "line", { x1: box.left, y1: box.bottom, x2: box.right, y2: box.bottom, stroke: "#333" });
      element(svg, "line", { x1: box.left, y1: box.top, x2: box.left, y2: box.bottom, stroke: "#333" });
      for (var tick = Math.ceil(xmin); tick <= xmax; tick += 2) {
        element(svg, "line", { x1: px(tick), y1: box.bottom, x2: px(tick), y2: box.bottom + 4, stroke: "#333" });
        element(svg, "text", { x: px(tick), y: box.bottom + 16, "text-anchor": "middle", "font-size": 11 }, String(tick));
      }
      var step = ymax > 1.5 ? 0.5 : ymax > 0.6 ? 0.2 : 0.1;
      for (var y = 0; y <= ymax + 1e-9; y += step) {
        element(svg, "line", { x1: box.left - 4, y1: py(y), x2: box.left, y2: py(y), stroke: "#333" });
        element(svg, "text", { x: box.left - 7, y: py(y) + 4, "text-anchor": "end", "font-size": 11 }, y.toFixed(1));
      }
      element(svg, "text", { x: (box.left + box.right) / 2, y: height - 4, "text-anchor": "middle", "font-size": 12 }, "x");
      element(svg, "text", { x: 12, y: (box.top + box.bottom) / 2, "text-anchor": "middle", "font-size": 12,
        transform: "rotate(-90 12 " + (box.top + box.bottom) / 2 + ")" }, "density p(x)");
      // The curves: the reference ones thin, then N(mu, sigma^2), then its mean.
      spec.others.forEach(function (other) {
        element(svg, "polyline", { class: "vaelib-gaussian-other", points: curve(other[0], other[1], xmin, xmax).join(" "),
          fill: "none", stroke: "#999", "stroke-width": 1.2 });
      });
      element(svg, "polyline", { class: "vaelib-gaussian-curve", points: curve(mu, sigma, xmin, xmax).join(" "),
        fill: "none", stroke: "#4C72B0", "stroke-width": 2.4 });
      element(svg, "line", { x1: px(mu), y1: py(0), x2: px(mu), y2: py(peaks[0]), stroke: "#B55D22",
        "stroke-dasharray": "5 3", "stroke-width": 1.5 });

      root.dataset.view = JSON.stringify({ xmin: xmin, xmax: xmax, ymax: ymax, box: box });
      readout.textContent = "μ = " + mu.toFixed(1) + ", σ = " + sigma.toFixed(1) + ": peak " + peaks[0].toFixed(3) +
        "; shaded, 68.3% of the probability within μ ± σ and 95.4% within μ ± 2σ";
    }

    muSlider.addEventListener("input", draw);
    sigmaSlider.addEventListener("input", draw);
    draw();
  };
})();
