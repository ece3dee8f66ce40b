// Sizes and colours the server works out per element, applied from data-
// attributes through the CSSOM: the Content-Security-Policy (style-src 'self', no
// 'unsafe-inline') ignores style="" attributes, but not styles set by a script.
// Only these properties can be set this way, each from its own attribute:
//   data-style-width="37.5%"    a bar's length (utilisation, a run's progress)
//   data-style-left="66.7%"     a mark's position along a bar (limit, warning level)
//   data-style-accent="#1f4e79" a report's accent colour (--report-accent)
(function () {
  "use strict";
  var PROPERTIES = { width: "width", left: "left", accent: "--report-accent" };
  Object.keys(PROPERTIES).forEach(function (key) {
    var attribute = "data-style-" + key;
    document.querySelectorAll("[" + attribute + "]").forEach(function (element) {
      element.style.setProperty(PROPERTIES[key], element.getAttribute(attribute));
    });
  });
})();
