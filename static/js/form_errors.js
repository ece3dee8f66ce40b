// A form that came back with errors (templates/_form_errors.html): its summary is
// brought to the top of the viewport and focused, so on a phone the user sees what
// to fix first instead of the top of a long page, and a screen reader reads it.
// Without this script the summary's autofocus still focuses it (scrolled to centre).
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (!summary) { return; }
  summary.scrollIntoView({ block: "start" });
  summary.focus({ preventScroll: true });
})();
