// The report builder (templates/reports/builder.html).
//
// The page's form holds the template's fields; each control that belongs to the
// template's definition carries data-field="<path>" ("name", "parameters.period",
// "layout.cover_page", ...), with data-type="int" for ids. The ordered blocks live
// in the hidden input name="blocks" as JSON ([{"kind", "options"}]); this script
// edits them: add from the catalog, remove, reorder by drag or by the up/down
// buttons, set each block's options. Every change re-fetches the HTML preview
// (POST of the draft definition to the form's data-preview-url, debounced, the
// previous request aborted) and shows it in an iframe, so the report's own
// stylesheet never mixes with the page's. Controls with data-show-when="<path>=<v>"
// are shown only while that field has that value (custom dates, team, portfolios).
(function () {
  "use strict";
  var form = document.getElementById("builder-form");
  if (!form) { return; }
  var PREVIEW_DELAY_MS = 600;
  var catalog = {};
  JSON.parse(document.getElementById("block-catalog").textContent).forEach(function (block) {
    catalog[block.kind] = block;
  });
  var blocksInput = form.querySelector("input[name=blocks]");
  var list = document.getElementById("block-list");
  var announcer = document.getElementById("block-announcer");
  var preview = document.getElementById("report-preview");
  var previewStatus = document.getElementById("preview-status");
  var previewHead = document.getElementById("preview-head").innerHTML;
  var blocks = JSON.parse(blocksInput.value || "[]");
  var dragIndex = null;
  var previewTimer = null;
  var previewRequest = null;

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(text) {
    if (announcer) { announcer.textContent = text; }
  }

  // --- The definition as JSON ------------------------------------------------

  function setPath(target, path, value) {
    var keys = path.split(".");
    var node = target;
    for (var i = 0; i < keys.length - 1; i += 1) {
      if (typeof node[keys[i]] !== "object" || node[keys[i]] === null) { node[keys[i]] = {}; }
      node = node[keys[i]];
    }
    node[keys[keys.length - 1]] = value;
  }

  function controlValue(control) {
    var raw = control.value;
    if (control.dataset.type === "int") { return raw === "" ? null : parseInt(raw, 10); }
    if (control.dataset.type === "bool") { return control.checked; }
    return raw === "" && control.dataset.empty === "null" ? null : raw;
  }

  function fieldValue(path) {
    var controls = form.querySelectorAll('[data-field="' + path + '"]');
    if (!controls.length) { return undefined; }
    var first = controls[0];
    if (first.type === "radio") {
      var chosen = Array.prototype.find.call(controls, function (c) { return c.checked; });
      return chosen ? controlValue(chosen) : null;
    }
    if (first.type === "checkbox" && first.dataset.type !== "bool") {
      return Array.prototype.filter.call(controls, function (c) { return c.checked; }).map(controlValue);
    }
    if (first.tagName === "SELECT" && first.multiple) {
      return Array.prototype.filter.call(first.options, function (o) { return o.selected; })
        .map(function (o) { return first.dataset.type === "int" ? parseInt(o.value, 10) : o.value; });
    }
    return controlValue(first);
  }

  function definition() {
    var result = {};
    var seen = {};
    form.querySelectorAll("[data-field]").forEach(function (control) {
      var path = control.dataset.field;
      if (seen[path]) { return; }
      seen[path] = true;
      setPath(result, path, fieldValue(path));
    });
    result.blocks = blocks.map(function (block) {
      return { kind: block.kind, options: Object.assign({}, block.options || {}) };
    });
    return result;
  }

  // --- Conditional fields ---------------------------------------------------

  function applyConditions() {
    form.querySelectorAll("[data-show-when]").forEach(function (element) {
      var rule = element.dataset.showWhen.split("=");
      var value = fieldValue(rule[0]);
      var shown = String(value) === rule[1];
      element.hidden = !shown;
    });
  }

  // --- The block list -------------------------------------------------------

  function optionControl(block, index, option) {
    var id = "block-" + index + "-option-" + option.name;
    var wrapper = document.createElement("div");
    wrapper.className = "block-option";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = option.label;
    var value = block.options && Object.prototype.hasOwnProperty.call(block.options, option.name)
      ? block.options[option.name] : option.default;
    var control;
    if (option.choices && option.choices.length) {
      control = document.createElement("select");
      option.choices.forEach(function (choice) {
        var item = document.createElement("option");
        item.value = choice.value;
        item.textContent = choice.label;
        item.selected = String(choice.value) === String(value);
        control.appendChild(item);
      });
    } else {
      control = document.createElement("input");
      if (typeof option.default === "boolean") {
        control.type = "checkbox";
        control.checked = Boolean(value);
        wrapper.classList.add("block-option-check");
      } else if (typeof option.default === "number") {
        control.type = "number";
        control.step = Number.isInteger(option.default) ? "1" : "any";
        control.value = value === null || value === undefined ? "" : value;
      } else {
        control.type = "text";
        control.value = value === null || value === undefined ? "" : value;
      }
    }
    control.id = id;
    control.addEventListener("change", function () {
      var next;
      if (control.type === "checkbox") { next = control.checked; }
      else if (control.type === "number") { next = control.value === "" ? option.default : Number(control.value); }
      else { next = control.value; }
      block.options = Object.assign({}, block.options || {});
      block.options[option.name] = next;
      changed();
    });
    if (control.type === "checkbox") {
      wrapper.appendChild(control);
      wrapper.appendChild(label);
    } else {
      wrapper.appendChild(label);
      wrapper.appendChild(control);
    }
    return wrapper;
  }

  function button(text, label, action, disabled) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "block-button";
    element.textContent = text;
    element.setAttribute("aria-label", label);
    element.title = label;
    element.dataset.action = action;
    element.disabled = Boolean(disabled);
    return element;
  }

  function renderList(focus) {
    list.textContent = "";
    blocks.forEach(function (block, index) {
      var entry = catalog[block.kind] || { title: block.kind, description: "", options: [] };
      var item = document.createElement("li");
      item.className = "block-item";
      item.dataset.index = String(index);
      item.dataset.kind = block.kind;

      var head = document.createElement("div");
      head.className = "block-head";
      var handle = document.createElement("span");
      handle.className = "block-handle";
      handle.setAttribute("aria-hidden", "true");
      handle.textContent = "⠿";
      var title = document.createElement("span");
      title.className = "block-title";
      title.textContent = (index + 1) + ". " + entry.title;
      var tools = document.createElement("span");
      tools.className = "block-tools";
      tools.appendChild(button("↑", "Move " + entry.title + " up", "up", index === 0));
      tools.appendChild(button("↓", "Move " + entry.title + " down", "down", index === blocks.length - 1));
      tools.appendChild(button("✕", "Remove " + entry.title, "remove", false));
      head.appendChild(handle);
      head.appendChild(title);
      head.appendChild(tools);
      item.appendChild(head);

      if (entry.options && entry.options.length) {
        var options = document.createElement("div");
        options.className = "block-options";
        entry.options.forEach(function (option) { options.appendChild(optionControl(block, index, option)); });
        item.appendChild(options);
      }
      list.appendChild(item);
    });
    var empty = document.getElementById("block-list-empty");
    if (empty) { empty.hidden = blocks.length > 0; }
    if (focus) {
      var target = list.querySelector('li[data-index="' + focus.index + '"] [data-action="' + focus.action + '"]');
      if (!target || target.disabled) {
        target = list.querySelector('li[data-index="' + focus.index + '"] [data-action]:not([disabled])');
      }
      if (target) { target.focus(); }
    }
  }

  function move(from, to) {
    if (to < 0 || to >= blocks.length || from === to) { return; }
    var moved = blocks.splice(from, 1)[0];
    blocks.splice(to, 0, moved);
    var entry = catalog[moved.kind] || { title: moved.kind };
    announce(entry.title + " moved to position " + (to + 1) + " of " + blocks.length + ".");
  }

  list.addEventListener("click", function (event) {
    var target = event.target.closest("[data-action]");
    if (!target) { return; }
    var index = parseInt(target.closest("li").dataset.index, 10);
    var action = target.dataset.action;
    if (action === "up") { move(index, index - 1); index -= 1; }
    if (action === "down") { move(index, index + 1); index += 1; }
    if (action === "remove") {
      var removed = blocks.splice(index, 1)[0];
      announce((catalog[removed.kind] || { title: removed.kind }).title + " removed.");
      index = Math.min(index, blocks.length - 1);
    }
    changed({ index: index, action: action });
  });

  // Drag and drop (mouse; on touch screens the up/down buttons do the same). Only
  // the handle and the title start a drag, so text in an option's field can still
  // be selected with the mouse.
  list.addEventListener("mousedown", function (event) {
    var item = event.target.closest("li.block-item");
    if (item) { item.draggable = Boolean(event.target.closest(".block-handle, .block-title")); }
  });
  list.addEventListener("dragstart", function (event) {
    var item = event.target.closest("li.block-item");
    if (!item) { return; }
    dragIndex = parseInt(item.dataset.index, 10);
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.kind);
  });
  list.addEventListener("dragend", function () {
    dragIndex = null;
    list.querySelectorAll(".dragging, .drop-before, .drop-after").forEach(function (item) {
      item.classList.remove("dragging", "drop-before", "drop-after");
    });
  });
  function dropPosition(event) {
    var item = event.target.closest("li.block-item");
    if (!item) { return null; }
    var box = item.getBoundingClientRect();
    var index = parseInt(item.dataset.index, 10);
    var after = event.clientY > box.top + box.height / 2;
    return { item: item, index: index, after: after };
  }
  list.addEventListener("dragover", function (event) {
    if (dragIndex === null) { return; }
    var position = dropPosition(event);
    if (!position) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    list.querySelectorAll(".drop-before, .drop-after").forEach(function (item) {
      item.classList.remove("drop-before", "drop-after");
    });
    position.item.classList.add(position.after ? "drop-after" : "drop-before");
  });
  list.addEventListener("drop", function (event) {
    if (dragIndex === null) { return; }
    var position = dropPosition(event);
    if (!position) { return; }
    event.preventDefault();
    var to = position.index + (position.after ? 1 : 0);
    if (dragIndex < to) { to -= 1; }
    var from = dragIndex;
    dragIndex = null;
    move(from, to);
    changed();
  });

  document.querySelectorAll("[data-add-block]").forEach(function (element) {
    element.addEventListener("click", function () {
      var kind = element.dataset.addBlock;
      var entry = catalog[kind];
      if (!entry) { return; }
      var defaults = {};
      (entry.options || []).forEach(function (option) { defaults[option.name] = option.default; });
      blocks.push({ kind: kind, options: defaults });
      announce(entry.title + " added as block " + blocks.length + ".");
      changed();
    });
  });

  // --- Preview ----------------------------------------------------------------

  function showPreviewErrors(errors) {
    previewStatus.className = "preview-status error";
    previewStatus.textContent = "";
    var heading = document.createElement("strong");
    heading.textContent = "The preview needs: ";
    previewStatus.appendChild(heading);
    var items = document.createElement("ul");
    Object.keys(errors).forEach(function (field) {
      var messages = errors[field];
      flatten(messages).forEach(function (message) {
        var line = document.createElement("li");
        line.textContent = (field === "non_field_errors" || field === "detail" ? "" : field + ": ") + message;
        items.appendChild(line);
      });
    });
    previewStatus.appendChild(items);
  }

  function flatten(value) {
    if (Array.isArray(value)) { return value.reduce(function (all, v) { return all.concat(flatten(v)); }, []); }
    if (value && typeof value === "object") {
      return Object.keys(value).reduce(function (all, key) {
        return all.concat(flatten(value[key]).map(function (m) { return key + ": " + m; }));
      }, []);
    }
    return [String(value)];
  }

  function fitPreview() {
    var doc = preview.contentDocument;
    if (doc && doc.documentElement) {
      preview.style.height = Math.max(doc.documentElement.scrollHeight, 240) + "px";
    }
  }

  // The preview's own page: the head the page keeps in <template id="preview-head">
  // (the report's stylesheet and the chart scripts, the portal's static files)
  // around the document's fragment; links open outside. The srcdoc page inherits
  // this page's Content-Security-Policy, so it runs those files and nothing inline.
  function previewPage(fragment) {
    return '<!doctype html><html lang="en"><head><meta charset="utf-8"><base target="_blank">' +
      previewHead + '</head><body class="report-preview">' + fragment + "</body></html>";
  }

  function refreshPreview() {
    if (!preview) { return; }
    if (previewRequest) { previewRequest.abort(); }
    var controller = new AbortController();
    previewRequest = controller;
    if (!blocks.length) {
      previewStatus.className = "preview-status";
      previewStatus.textContent = "Add a block to see the preview.";
      preview.srcdoc = "";
      return;
    }
    previewStatus.className = "preview-status busy";
    previewStatus.textContent = "Updating the preview…";
    form.setAttribute("aria-busy", "true");
    fetch(form.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: JSON.stringify(definition()),
      signal: controller.signal,
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (previewRequest !== controller) { return; }
      previewRequest = null;
      form.removeAttribute("aria-busy");
      if (result.status !== 200) {
        showPreviewErrors(result.body && typeof result.body === "object" ? result.body : { detail: "The preview failed." });
        return;
      }
      preview.srcdoc = previewPage(result.body.html);
      previewStatus.className = "preview-status ok";
      previewStatus.textContent = "Preview on your portfolios' stored data" +
        (result.body.as_of ? ", as of " + result.body.as_of : "") + ".";
      previewStatus.dataset.updated = String(Date.now());
    }).catch(function (error) {
      if (error.name === "AbortError") { return; }
      form.removeAttribute("aria-busy");
      previewStatus.className = "preview-status error";
      previewStatus.textContent = "The preview could not be fetched: " + error.message;
    });
  }

  function schedulePreview() {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(refreshPreview, PREVIEW_DELAY_MS);
  }

  if (preview) {
    preview.addEventListener("load", function () {
      fitPreview();
      // Charts are drawn after the load event on slow machines: follow the height.
      if (window.ResizeObserver && preview.contentDocument && preview.contentDocument.body) {
        new window.ResizeObserver(fitPreview).observe(preview.contentDocument.body);
      }
    });
  }
  window.addEventListener("resize", fitPreview);

  // --- Wiring -----------------------------------------------------------------

  function changed(focus) {
    blocksInput.value = JSON.stringify(blocks);
    renderList(focus);
    schedulePreview();
  }

  form.addEventListener("input", function (event) {
    if (event.target.closest("#block-list")) { return; }
    if (event.target.type === "text" || event.target.tagName === "TEXTAREA") {
      applyConditions();
      schedulePreview();
    }
  });
  form.addEventListener("change", function (event) {
    if (event.target.closest("#block-list")) { return; }
    applyConditions();
    schedulePreview();
  });
  form.addEventListener("submit", function () {
    blocksInput.value = JSON.stringify(blocks);
  });

  applyConditions();
  renderList();
  refreshPreview();
})();
