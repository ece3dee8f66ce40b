// Draws every Plotly figure embedded with json_script: <div id="X-chart"> takes
// its figure from <script id="X-figure">. Responsive to the container's width.
(function () {
  "use strict";
  document.querySelectorAll("div.chart[id$='-chart']").forEach(function (el) {
    var source = document.getElementById(el.id.replace(/-chart$/, "-figure"));
    if (!source || !window.Plotly) { return; }
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(el, figure.data, figure.layout, {
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ["lasso2d", "select2d"],
    });
  });
})();
