// The profile page (templates/portal/profile.html): the copy button of a new
// token's secret. Without this script the secret stays selectable in its field
// and the button stays hidden.
(function () {
  "use strict";
  var button = document.getElementById("new-token-copy");
  if (!button) { return; }
  var field = document.getElementById(button.dataset.copyTarget);
  var status = document.getElementById("new-token-copied");
  button.hidden = false;
  field.addEventListener("focus", function () { field.select(); });
  button.addEventListener("click", function () {
    field.select();
    var done = function () { status.textContent = "Copied."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        status.textContent = "Press Ctrl+C (⌘C) to copy.";
      });
    } else {
      status.textContent = document.execCommand("copy") ? "Copied." : "Press Ctrl+C (⌘C) to copy.";
    }
  });
})();
