// The schedule form (templates/reports/schedules/form.html): shows the fields of the
// rule kind chosen (cron, or a market-calendar rule with its exchange and time) and
// refreshes "Next ten runs" from GET /api/schedules/preview/ as the rule changes.
// Without scripts every field shows and the server-rendered preview stays.
(function () {
  "use strict";
  var form = document.getElementById("schedule-form");
  if (!form) { return; }
  var list = document.getElementById("schedule-preview");
  var problem = document.getElementById("schedule-preview-error");
  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var pending = null;
  var asked = 0;

  function value(name) {
    var checked = form.querySelector("[name='" + name + "']:checked");
    if (checked) { return checked.value; }
    var field = form.elements.namedItem(name);
    return field && field.value !== undefined ? field.value : "";
  }

  function showKind() {
    var kind = value("rule_kind");
    var nth = value("calendar_rule") === "nth_business_day";
    form.querySelectorAll("[data-show-when]").forEach(function (element) {
      var when = element.getAttribute("data-show-when");
      var shown = when === kind || (when === "nth" && kind === "calendar" && nth);
      element.hidden = !shown;
    });
  }

  // "2026-03-30T08:00:00+01:00" -> "Mon 2026-03-30 08:00 +01:00" (the wall-clock time
  // in the schedule's zone, as the server renders it).
  function local(iso) {
    var date = iso.slice(0, 10).split("-");
    var weekday = DAYS[new Date(Date.UTC(+date[0], +date[1] - 1, +date[2])).getUTCDay()];
    var offset = iso.length > 19 ? iso.slice(19) : "";
    if (offset.charAt(0) === ".") { offset = offset.replace(/^\.\d+/, ""); }
    return weekday + " " + iso.slice(0, 10) + " " + iso.slice(11, 16) + " " + (offset === "Z" ? "+00:00" : offset);
  }

  function query() {
    var params = new URLSearchParams();
    var kind = value("rule_kind");
    if (kind === "cron") {
      params.set("cron", value("cron"));
    } else {
      var rule = value("calendar_rule");
      if (rule === "nth_business_day") { rule += ":" + (value("calendar_n") || "1"); }
      params.set("calendar_rule", rule);
      params.set("exchange", value("exchange"));
      params.set("time", value("time"));
    }
    params.set("timezone", value("timezone"));
    params.set("n", "10");
    return params;
  }

  function render(runs) {
    list.replaceChildren.apply(list, runs.map(function (iso) {
      var item = document.createElement("li");
      item.textContent = local(iso);
      return item;
    }));
    problem.hidden = true;
    problem.textContent = "";
  }

  function refresh() {
    var mine = ++asked;
    fetch(form.getAttribute("data-preview-url") + "?" + query().toString(), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== asked) { return; }  // a newer request is on its way
      if (answer.ok) { render(answer.body.runs); return; }
      var messages = [];
      Object.keys(answer.body).forEach(function (field) {
        [].concat(answer.body[field]).forEach(function (text) { messages.push(text); });
      });
      list.replaceChildren();
      problem.textContent = messages.join(" ") || "This rule has no run times.";
      problem.hidden = false;
    }).catch(function () {
      if (mine !== asked) { return; }
      problem.textContent = "The preview could not be loaded; the times above may be out of date.";
      problem.hidden = false;
    });
  }

  function changed(event) {
    var name = event.target.name;
    if (["rule_kind", "cron", "calendar_rule", "calendar_n", "exchange", "time", "timezone"].indexOf(name) < 0) { return; }
    showKind();
    clearTimeout(pending);
    pending = setTimeout(refresh, 300);
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  showKind();
})();
