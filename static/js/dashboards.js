// A dashboard page: the grid of widgets (gridstack.js), the filters that apply to
// every widget, drill-down, the user's own layout, and live updates.
//
// Live updates poll the dashboard's data-version endpoint every POLL_MS while the
// tab is visible (never while hidden), sending the last ETag: the answer is 304
// while nothing changed. When a portfolio's version moves on (prices or trades
// landed, a snapshot finished) only the widgets showing that portfolio are
// re-fetched; each flashes briefly and shows its new as-of date.
//
// Below PHONE_PX the grid is one column in reading order with the KPI tiles
// first, and the layout is not saved from there (a phone's column would
// overwrite the desktop arrangement).
(function () {
  "use strict";
  var POLL_MS = 2000;
  var PHONE_PX = 700;
  var SAVE_DELAY_MS = 400;
  var config = JSON.parse(document.getElementById("dashboard-config").textContent);
  var dashboard = config.dashboard;
  var gridElement = document.getElementById("dashboard-grid");
  var phone = window.matchMedia("(max-width: " + PHONE_PX + "px)").matches;
  var widgets = {};   // id -> {meta, element, body, payload}
  var state = {
    portfolios: [], period: config.default_period, benchmark: "portfolio", currency: "",
    sector: "", holdings: {},
  };
  var versions = null;   // the last answer of the data-version endpoint
  var versionsEtag = "";
  var grid = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(),
                 "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) { throw new Error(method + " " + url + ": " + response.status); }
      return response.status === 204 ? null : response.json();
    });
  }

  // --- Filters ------------------------------------------------------------

  function readUrl() {
    var query = new URLSearchParams(window.location.search);
    state.portfolios = (query.get("portfolio") || "").split(",").filter(Boolean).map(Number);
    state.period = query.get("period") || config.default_period;
    state.benchmark = query.get("benchmark") || "portfolio";
    state.currency = query.get("currency") || "";
    state.sector = query.get("sector") || "";
  }

  function writeUrl() {
    var query = new URLSearchParams();
    if (state.portfolios.length) { query.set("portfolio", state.portfolios.join(",")); }
    if (state.period !== config.default_period) { query.set("period", state.period); }
    if (state.benchmark !== "portfolio") { query.set("benchmark", state.benchmark); }
    if (state.currency) { query.set("currency", state.currency); }
    if (state.sector) { query.set("sector", state.sector); }
    var search = query.toString();
    window.history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
  }

  function filterQuery() {
    var query = new URLSearchParams();
    if (state.portfolios.length) { query.set("portfolio", state.portfolios.join(",")); }
    query.set("period", state.period);
    if (state.benchmark !== "portfolio") { query.set("benchmark", state.benchmark); }
    if (state.currency) { query.set("currency", state.currency); }
    return query;
  }

  function option(select, value, label, selected) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    element.selected = !!selected;
    select.appendChild(element);
  }

  function setUpFilters() {
    var period = document.getElementById("filter-period");
    config.periods.forEach(function (p) { option(period, p.key, p.label, p.key === state.period); });
    var currency = document.getElementById("filter-currency");
    config.currencies.forEach(function (c) { option(currency, c, c, c === state.currency); });
    document.getElementById("filter-benchmark").value = state.benchmark;
    var box = document.getElementById("portfolio-options");
    config.portfolios.forEach(function (p) {
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "checkbox";
      input.value = p.id;
      input.checked = state.portfolios.indexOf(p.id) >= 0;
      input.dataset.code = p.code;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + p.code));
      label.title = p.name;
      box.appendChild(label);
    });
    summarisePortfolios();
    var kinds = document.getElementById("add-kind");
    config.kinds.forEach(function (k) { option(kinds, k.key, k.label, false); });

    document.getElementById("dashboard-filters").addEventListener("change", function (event) {
      if (event.target.closest("#portfolio-options")) {
        state.portfolios = Array.prototype.slice
          .call(box.querySelectorAll("input:checked")).map(function (i) { return Number(i.value); });
        summarisePortfolios();
      } else if (event.target.id === "filter-period") {
        state.period = event.target.value;
      } else if (event.target.id === "filter-benchmark") {
        state.benchmark = event.target.value;
      } else if (event.target.id === "filter-currency") {
        state.currency = event.target.value;
      }
      filtersChanged();
    });
    document.getElementById("dashboard-filters").addEventListener("submit", function (event) {
      event.preventDefault();
    });
    document.getElementById("drill-clear").addEventListener("click", function () {
      drillToSector("");
    });
    showDrill();
  }

  function summarisePortfolios() {
    var chosen = config.portfolios.filter(function (p) { return state.portfolios.indexOf(p.id) >= 0; });
    document.getElementById("portfolio-summary").textContent = chosen.length
      ? chosen.map(function (p) { return p.code; }).join(", ") : "all";
  }

  function filtersChanged() {
    writeUrl();
    versions = null;
    versionsEtag = "";
    Object.keys(widgets).forEach(function (id) { loadWidget(Number(id), false); });
  }

  function showDrill() {
    var chip = document.getElementById("drill-chip");
    chip.hidden = !state.sector;
    document.getElementById("drill-sector").textContent = state.sector;
  }

  function drillToSector(sector) {
    state.sector = sector;
    showDrill();
    writeUrl();
    Object.keys(widgets).forEach(function (id) {
      var w = widgets[id];
      if (w.meta.kind === "holdings") {
        w.table = Object.assign({}, w.table || {}, { sector: sector, page: 1 });
        loadWidget(Number(id), false);
      }
    });
  }

  // --- Widgets ------------------------------------------------------------

  function widgetQuery(w) {
    var query = filterQuery();
    if (w.meta.kind === "holdings") {
      var table = w.table || {};
      if (state.sector) { query.set("sector", state.sector); }
      if (table.q) { query.set("q", table.q); }
      if (table.sort) { query.set("sort", table.sort); }
      if (table.page) { query.set("page", table.page); }
    }
    return query;
  }

  function loadWidget(id, highlight) {
    var w = widgets[id];
    if (!w) { return Promise.resolve(); }
    w.element.classList.add("is-loading");
    var headers = { "Accept": "application/json" };
    if (w.payload && w.payload.version) { headers["If-None-Match"] = '"' + w.payload.version + '"'; }
    return fetch(w.meta.data_url + "?" + widgetQuery(w).toString(), {
      credentials: "same-origin", headers: headers,
    }).then(function (response) {
      w.element.classList.remove("is-loading");
      if (response.status === 304) { return null; }
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (payload) {
      if (payload) {
        w.payload = payload;
        render(w);
        if (highlight) { flash(w); }
      }
    }).catch(function () {
      w.element.classList.remove("is-loading");
      w.body.textContent = "Could not load this widget.";
    });
  }

  function flash(w) {
    w.element.classList.remove("just-updated");
    void w.element.offsetWidth;   // restart the animation
    w.element.classList.add("just-updated");
    window.setTimeout(function () { w.element.classList.remove("just-updated"); }, 1600);
  }

  function formatValue(value, format, unit) {
    if (value === null || value === undefined) { return "—"; }
    if (format === "percent") { return (value * 100).toFixed(2) + "%"; }
    if (format === "amount") {
      return (unit ? unit + " " : "") + Math.round(value).toLocaleString("en-US");
    }
    return String(value);
  }

  function tone(value) { return value > 0 ? "pos" : value < 0 ? "neg" : ""; }

  function el(tag, className, text) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    if (text !== undefined) { element.textContent = text; }
    return element;
  }

  function render(w) {
    var p = w.payload;
    w.title.textContent = p.title || w.meta.label;
    w.asOf.textContent = p.as_of ? "as of " + p.as_of + (p.stale ? " (updating)" : "") : "";
    w.element.dataset.asOf = p.as_of || "";
    w.element.dataset.version = p.version || "";
    var body = w.body;
    if (window.Plotly && body.classList.contains("has-plot")) { window.Plotly.purge(body); }
    body.className = "widget-body";
    body.textContent = "";
    if (p.message) { body.appendChild(el("p", "muted widget-message", p.message)); }
    if (p.currency_note) { body.appendChild(el("p", "muted small currency-note", p.currency_note)); }
    if (p.tiles) { renderTiles(body, p.tiles); }
    if (p.kind === "compliance" && p.alerts) { renderAlerts(body, p.alerts); }
    if (p.figure) { renderFigure(w, p.figure); }
    if (p.table && p.kind === "holdings") { renderHoldings(w, p.table); }
    if (p.table && p.kind === "overview") { renderOverview(body, p.table); }
    if (p.items) { renderQuality(body, p.items); }
    if (p.operations) { renderOperations(body, p.operations); }
  }

  function renderTiles(body, tiles) {
    var row = el("div", "kpi-tiles");
    tiles.forEach(function (t) {
      var tile = el("div", "kpi-tile");
      tile.dataset.key = t.key;
      tile.appendChild(el("span", "kpi-label", t.label));
      tile.appendChild(el("span", "kpi-value " + (t.toned ? tone(t.value) : ""),
        formatValue(t.value, t.format, t.unit)));
      row.appendChild(tile);
    });
    body.appendChild(row);
  }

  function renderAlerts(body, alerts) {
    var line = el("p", "alert-counts");
    line.appendChild(el("span", "badge breach", alerts.breach + " breach" + (alerts.breach === 1 ? "" : "es")));
    line.appendChild(document.createTextNode(" "));
    line.appendChild(el("span", "badge warning", alerts.warning + " warning" + (alerts.warning === 1 ? "" : "s")));
    line.appendChild(el("span", "muted small", " active alerts"));
    body.appendChild(line);
  }

  function renderFigure(w, figure) {
    var plot = el("div", "widget-plot");
    w.body.appendChild(plot);
    w.body.classList.add("has-plot");
    if (!window.Plotly) { return; }
    var layout = Object.assign({}, figure.layout || {});
    delete layout.height;   // the grid cell sets the height
    layout.autosize = true;
    var cartesian = (figure.data || []).every(function (trace) {
      return ["treemap", "indicator"].indexOf(trace.type) < 0;
    });
    if (cartesian && plot.clientWidth < 500) {
      layout.margin = Object.assign({}, layout.margin || {}, { l: 40, r: 8 });
      layout.font = Object.assign({}, layout.font || {}, { size: 10 });
    }
    window.Plotly.newPlot(plot, figure.data, layout, {
      responsive: true, displaylogo: false, displayModeBar: "hover",
      modeBarButtonsToRemove: ["lasso2d", "select2d"],
    });
    w.plot = plot;
    if (w.meta.kind === "exposure") {
      plot.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var id = point && point.id ? String(point.id) : "";
        if (id.indexOf("sector:") === 0) { drillToSector(id.slice(7)); }
      });
    }
    if (w.meta.kind === "underwater") {
      var caption = el("p", "caption drawdown-dates", "Click the curve to see the drawdown's dates.");
      w.body.appendChild(caption);
      plot.on("plotly_click", function (event) {
        var date = event.points && event.points[0] && String(event.points[0].x).slice(0, 10);
        var episode = (w.payload.episodes || []).filter(function (e) {
          return e.peak <= date && (!e.recovery || date <= e.recovery);
        })[0];
        caption.textContent = episode
          ? "Peak " + episode.peak + ", trough " + episode.trough + " (" +
            formatValue(episode.depth, "percent") + "), " +
            (episode.recovery ? "recovered " + episode.recovery : "not recovered yet")
          : "No drawdown episode on " + date + ".";
      });
    }
  }

  function renderHoldings(w, table) {
    w.table = Object.assign({}, w.table || {}, { sort: table.sort, page: table.page, q: table.q });
    var body = w.body;
    var tools = el("div", "holdings-tools");
    var search = el("input", "holdings-search");
    search.type = "search";
    search.placeholder = "Search holdings";
    search.value = table.q || "";
    search.setAttribute("aria-label", "Search holdings");
    var timer = null;
    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        w.table.q = search.value;
        w.table.page = 1;
        loadWidget(w.meta.id, false);
      }, 250);
    });
    tools.appendChild(search);
    if (table.sector) {
      tools.appendChild(el("span", "badge holdings-sector", "Sector: " + table.sector));
    }
    tools.appendChild(el("span", "muted small", table.total + " holding" + (table.total === 1 ? "" : "s")));
    body.appendChild(tools);
    var wrap = el("div", "table-wrap");
    var grid = el("table", "data holdings-table");
    var head = el("tr");
    table.columns.forEach(function (c) {
      var th = el("th", c.numeric ? "num" : "");
      var button = el("button", "link-button sort-button", c.label);
      button.type = "button";
      var current = table.sort.replace(/^-/, "");
      if (current === c.key) {
        th.setAttribute("aria-sort", table.sort[0] === "-" ? "descending" : "ascending");
        button.textContent += table.sort[0] === "-" ? " ▼" : " ▲";
      }
      button.addEventListener("click", function () {
        w.table.sort = (current === c.key && table.sort[0] === "-") ? c.key : "-" + c.key;
        loadWidget(w.meta.id, false);
      });
      th.appendChild(button);
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    grid.appendChild(thead);
    var tbody = el("tbody");
    table.rows.forEach(function (r) {
      var tr = el("tr");
      table.columns.forEach(function (c) {
        var value = r[c.key];
        var text = c.key === "weight" ? formatValue(value, "percent")
          : c.amount ? formatValue(value, "amount")
          : c.key === "quantity" ? formatValue(value, "amount") : String(value);
        tr.appendChild(el("td", c.numeric ? "num" : "", text));
      });
      tbody.appendChild(tr);
    });
    grid.appendChild(tbody);
    wrap.appendChild(grid);
    body.appendChild(wrap);
    if (table.pages > 1) {
      var pager = el("div", "pager");
      var previous = el("button", "link-button", "‹ Previous");
      previous.type = "button";
      previous.disabled = table.page <= 1;
      previous.addEventListener("click", function () { w.table.page = table.page - 1; loadWidget(w.meta.id, false); });
      var next = el("button", "link-button", "Next ›");
      next.type = "button";
      next.disabled = table.page >= table.pages;
      next.addEventListener("click", function () { w.table.page = table.page + 1; loadWidget(w.meta.id, false); });
      pager.appendChild(previous);
      pager.appendChild(el("span", "muted small", " page " + table.page + " of " + table.pages + " "));
      pager.appendChild(next);
      body.appendChild(pager);
    }
  }

  function renderOverview(body, table) {
    var wrap = el("div", "table-wrap");
    var grid = el("table", "data overview-table");
    var head = el("tr");
    table.columns.forEach(function (c) { head.appendChild(el("th", c.numeric ? "num" : "", c.label)); });
    var thead = el("thead");
    thead.appendChild(head);
    grid.appendChild(thead);
    var tbody = el("tbody");
    table.rows.forEach(function (r) {
      var tr = el("tr");
      table.columns.forEach(function (c) {
        var td = el("td", c.numeric ? "num" : "");
        if (c.key === "code" && config.portfolio_dashboard) {
          var link = el("a", "portfolio-link", r.code);
          link.href = config.portfolio_dashboard + "?portfolio=" + r.portfolio;
          link.title = "Open " + r.name;
          td.appendChild(link);
        } else if (c.percent) {
          td.textContent = formatValue(r[c.key], "percent");
          td.className += " " + (c.key === "ytd" ? tone(r[c.key]) : "");
        } else if (c.key === "net_assets") {
          td.textContent = formatValue(r[c.key], "amount", r.currency);
        } else {
          td.textContent = r[c.key];
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    grid.appendChild(tbody);
    wrap.appendChild(grid);
    body.appendChild(wrap);
  }

  function renderQuality(body, items) {
    var list = el("ul", "quality-list");
    items.forEach(function (item) {
      var li = el("li", "quality-item");
      li.appendChild(el("span", "badge " + (item.status === "ok" ? "ok" : "warning"),
        item.status === "ok" ? "complete" : item.status === "unknown" ? "not scanned" : "check"));
      li.appendChild(el("strong", "", " " + item.code + " "));
      li.appendChild(el("span", "muted small",
        "data as of " + (item.data_as_of || "—") + " · completeness " +
        (item.completeness === null ? "—" : (item.completeness * 100).toFixed(1) + "%") +
        (item.late ? " · late" : "") +
        " · findings " + (item.findings.error || 0) + " errors, " + (item.findings.warning || 0) + " warnings"));
      list.appendChild(li);
    });
    body.appendChild(list);
  }

  function renderOperations(body, ops) {
    var facts = el("dl", "ops-facts");
    function fact(label, value) {
      facts.appendChild(el("dt", "", label));
      facts.appendChild(el("dd", "", value === null || value === undefined ? "—" : String(value)));
    }
    fact("Failed imports (24 h)", ops.failed_imports);
    fact("Failed pulls (24 h)", ops.failed_pulls);
    fact("Snapshot backlog", ops.snapshot_backlog);
    fact("Evaluation backlog", ops.evaluation_backlog);
    fact("Report runs failed today", ops.failed_report_runs_today === null ? "not tracked" : ops.failed_report_runs_today);
    Object.keys(ops.queues).forEach(function (q) { fact("Queue " + q, ops.queues[q] === null ? "not declared" : ops.queues[q]); });
    body.appendChild(facts);
    if (ops.sources.length) {
      var list = el("ul", "quality-list");
      ops.sources.forEach(function (s) {
        var li = el("li");
        li.appendChild(el("span", "badge " + (s.overdue ? "warning" : "ok"), s.overdue ? "overdue" : "fresh"));
        li.appendChild(el("span", "", " " + s.name + " "));
        li.appendChild(el("span", "muted small", s.last_success ? "last " + s.last_success.slice(0, 16).replace("T", " ") : "never pulled"));
        list.appendChild(li);
      });
      body.appendChild(list);
    } else {
      body.appendChild(el("p", "muted small", "No data sources are pulled."));
    }
  }

  function widgetElement(meta) {
    var item = el("div", "grid-stack-item dashboard-widget" + (meta.tile ? " is-tile" : ""));
    item.dataset.widget = meta.id;
    item.dataset.kind = meta.kind;
    item.id = "widget-" + meta.id;
    var content = el("div", "grid-stack-item-content widget-card");
    var head = el("div", "widget-head");
    var title = el("h2", "widget-title", meta.title || meta.label);
    var asOf = el("span", "widget-asof muted small");
    var remove = el("button", "link-button widget-remove", "×");
    remove.type = "button";
    remove.title = "Remove this widget from your view";
    remove.setAttribute("aria-label", "Remove " + meta.label);
    remove.addEventListener("click", function () { removeWidget(meta.id); });
    head.appendChild(title);
    head.appendChild(asOf);
    head.appendChild(remove);
    var body = el("div", "widget-body", "Loading…");
    content.appendChild(head);
    content.appendChild(body);
    item.appendChild(content);
    widgets[meta.id] = { meta: meta, element: item, body: body, title: title, asOf: asOf };
    return item;
  }

  function placeAll(metas) {
    var ordered = metas.slice();
    if (phone) {
      // One column, tiles first, then reading order.
      ordered.sort(function (a, b) {
        return (b.tile - a.tile) || (a.y - b.y) || (a.x - b.x);
      });
      gridElement.classList.add("is-phone");
      ordered.forEach(function (meta) { gridElement.appendChild(widgetElement(meta)); });
      return;
    }
    grid = window.GridStack.init({
      column: 12, cellHeight: 80, margin: 6, float: false, animate: false,
      handle: ".widget-head", draggable: { cancel: "button, input, a, select" },
      resizable: { handles: "se" },
    }, gridElement);
    grid.batchUpdate();
    ordered.forEach(function (meta) {
      var item = widgetElement(meta);
      grid.makeWidget(item, { x: meta.x, y: meta.y, w: meta.w, h: meta.h, id: String(meta.id) });
    });
    grid.batchUpdate(false);
    grid.on("change", scheduleSave);
    grid.on("resizestop", function (event, element) {
      var w = widgets[Number(element.dataset.widget)];
      if (w && w.plot && window.Plotly) { window.Plotly.Plots.resize(w.plot); }
    });
  }

  var saveTimer = null;
  function scheduleSave() {
    gridElement.dataset.saved = "pending";
    window.clearTimeout(saveTimer);
    saveTimer = window.setTimeout(saveLayout, SAVE_DELAY_MS);
  }

  function saveLayout() {
    if (!grid) { return Promise.resolve(); }
    var items = grid.getGridItems().map(function (element) {
      var node = element.gridstackNode;
      return { widget: Number(element.dataset.widget), x: node.x, y: node.y, w: node.w, h: node.h };
    });
    gridElement.dataset.saved = "saving";
    return api("PUT", config.urls.layout, { items: items }).then(function () {
      gridElement.dataset.saved = "saved";
    });
  }

  function removeWidget(id) {
    api("DELETE", widgets[id].meta.data_url.replace(/data\/$/, "")).then(function () {
      var w = widgets[id];
      if (w.plot && window.Plotly) { window.Plotly.purge(w.plot); }
      if (grid) { grid.removeWidget(w.element); } else { w.element.remove(); }
      delete widgets[id];
      scheduleSave();
    });
  }

  function addWidget() {
    var kind = document.getElementById("add-kind").value;
    var spec = config.kinds.filter(function (k) { return k.key === kind; })[0];
    var bottom = 0;
    Object.keys(widgets).forEach(function (id) {
      var node = widgets[id].element.gridstackNode;
      if (node) { bottom = Math.max(bottom, node.y + node.h); }
    });
    api("POST", config.urls.widgets, { kind: kind, x: 0, y: bottom, w: spec.w, h: spec.h })
      .then(function (detail) {
        detail.widgets.filter(function (m) { return !widgets[m.id]; }).forEach(function (meta) {
          var item = widgetElement(meta);
          if (grid) {
            grid.makeWidget(item, { x: meta.x, y: meta.y, w: meta.w, h: meta.h, id: String(meta.id) });
          } else {
            gridElement.appendChild(item);
          }
          loadWidget(meta.id, true);
          item.scrollIntoView({ block: "nearest" });
        });
        return saveLayout();
      });
  }

  function cloneDashboard() {
    var name = window.prompt("Name of your copy", "Copy of " + dashboard.name);
    if (name === null) { return; }
    api("POST", config.urls.clone, { name: name }).then(function (copy) {
      window.location.href = config.urls.index + copy.id + "/";
    });
  }

  // --- Live updates -------------------------------------------------------

  function changedWidgets(previous, current) {
    var changed = {};
    Object.keys(current.portfolios).forEach(function (id) {
      if (previous.portfolios[id] !== current.portfolios[id]) { changed[id] = true; }
    });
    var compliance = previous.compliance !== current.compliance;
    var operations = previous.operations !== current.operations;
    return Object.keys(widgets).filter(function (id) {
      var w = widgets[id];
      var shown = (w.payload && w.payload.portfolios) || [];
      if (w.meta.depends === "operations") { return operations; }
      if (w.meta.depends === "compliance" && compliance) { return true; }
      return shown.some(function (p) { return changed[String(p)]; });
    }).map(Number);
  }

  var polling = null;
  function poll() {
    if (document.visibilityState !== "visible" || polling) { return; }
    var query = new URLSearchParams();
    if (state.portfolios.length) { query.set("portfolio", state.portfolios.join(",")); }
    var headers = { "Accept": "application/json" };
    if (versionsEtag) { headers["If-None-Match"] = '"' + versionsEtag + '"'; }
    polling = fetch(config.urls.versions + "?" + query.toString(), {
      credentials: "same-origin", headers: headers,
    }).then(function (response) {
      if (response.status === 304 || !response.ok) { return null; }
      return response.json();
    }).then(function (current) {
      if (!current) { return; }
      var previous = versions;
      versions = current;
      versionsEtag = current.version;
      if (previous) {
        var ids = changedWidgets(previous, current);
        ids.forEach(function (id) { loadWidget(id, true); });
        if (ids.length) {
          document.getElementById("live-status").textContent =
            "Updated " + new Date().toLocaleTimeString() + " (" + ids.length + " widget" + (ids.length === 1 ? "" : "s") + ")";
        }
      }
    }).catch(function () { return null; }).then(function () { polling = null; });
  }

  function start() {
    readUrl();
    setUpFilters();
    placeAll(dashboard.widgets);
    Object.keys(widgets).forEach(function (id) { loadWidget(Number(id), false); });
    document.getElementById("add-widget").addEventListener("click", addWidget);
    document.getElementById("clone-dashboard").addEventListener("click", cloneDashboard);
    poll();
    window.setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", poll);
    gridElement.dataset.ready = "true";
  }

  start();
})();
