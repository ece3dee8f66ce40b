// The run page's live progress (templates/reports/run_detail.html).
//
// While the run is queued or running, the element #run-live (data-status-url: the
// run's JSON in the REST API) is refreshed by polling: the state badge, the
// progress bar (role=progressbar, its width and aria-valuenow follow the run's
// progress.percent) and the step text ("Block 3 of 7: Drawdowns"). The interval
// starts at one second and grows to five while nothing changes, so a long run
// costs few requests. Once the run has finished (succeeded or failed) the page is
// reloaded, so the files, the data-quality summary or the failure message are
// rendered by the server, as they are for anyone opening the page later.
(function () {
  "use strict";
  var live = document.getElementById("run-live");
  if (!live || !live.dataset.statusUrl) { return; }
  var FINISHED = ["succeeded", "failed"];
  var FIRST_DELAY_MS = 1000;
  var LONGEST_DELAY_MS = 5000;
  var delay = FIRST_DELAY_MS;
  var last = "";
  var bar = live.querySelector(".run-progress");
  var fill = live.querySelector(".run-progress-fill");
  var stepText = document.getElementById("run-step");
  var stateBadge = document.getElementById("run-state");

  function show(run) {
    var percent = Math.max(0, Math.min(100, Math.round(run.progress.percent)));
    if (bar) { bar.setAttribute("aria-valuenow", String(percent)); }
    if (fill) { fill.style.width = percent + "%"; }
    if (stepText) { stepText.textContent = run.progress.step || ""; }
    if (stateBadge) {
      stateBadge.textContent = run.state_label;
      stateBadge.className = "badge run-state-" + run.state;
    }
    live.dataset.state = run.state;
  }

  function poll() {
    fetch(live.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (run) {
        show(run);
        if (FINISHED.indexOf(run.state) !== -1) {
          window.location.reload();
          return;
        }
        var seen = run.state + ":" + run.progress.done;
        delay = seen === last ? Math.min(delay * 1.5, LONGEST_DELAY_MS) : FIRST_DELAY_MS;
        last = seen;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // A dropped connection or a restarting server: keep trying, slowly.
        delay = LONGEST_DELAY_MS;
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, FIRST_DELAY_MS);
})();
