// Draws every Plotly figure embedded with json_script: <div id="X-chart"> takes
// its figure from <script id="X-figure">. Responsive to the container's width; a
// figure that sets its own height (heatmaps, stacked panels) gets it; on narrow
// screens margins and fonts shrink so the plot keeps most of the width.
(function () {
  "use strict";
  var NARROW = 600;
  document.querySelectorAll("div.chart[id$='-chart']").forEach(function (el) {
    var source = document.getElementById(el.id.replace(/-chart$/, "-figure"));
    if (!source || !window.Plotly) { return; }
    var figure = JSON.parse(source.textContent);
    var layout = figure.layout || {};
    if (layout.height) { el.style.height = layout.height + "px"; }
    if (el.clientWidth < NARROW) {
      var margin = layout.margin || {};
      layout.margin = Object.assign({}, margin, {
        l: Math.min(margin.l || 48, 44),
        r: Math.min(margin.r || 8, 8),
      });
      layout.font = Object.assign({}, layout.font || {}, { size: 10 });
    }
    window.Plotly.newPlot(el, figure.data, layout, {
      responsive: true,
      displaylogo: false,
      displayModeBar: el.clientWidth >= NARROW ? "hover" : false,
      modeBarButtonsToRemove: ["lasso2d", "select2d"],
    });
  });
})();
