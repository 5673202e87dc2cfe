// Bellwether editor: the visual segment builder (progressive enhancement;
// without this script the text area is the editor).
//
// The server owns the rule language: this script renders the builder's
// model (JSON, see crates/rules/src/builder) and posts it to
// /editor/builder, which prints it; when the text is typed, it posts the
// text and gets the model back, or the part the builder cannot show. It
// never reads or writes rule text itself.
"use strict";

(function () {
  var FUNCTIONS = [
    ["count", "count of"],
    ["exists", "at least one"],
    ["days_since", "days since the latest"],
    ["active_days", "active days"],
    ["distinct", "distinct values of"],
    ["sum", "sum of"],
    ["avg", "average of"],
    ["min", "least"],
    ["max", "greatest"],
  ];
  var NUMERIC_OPS = ["=", "!=", "<", "<=", ">", ">="];
  var FILTER_OPS = NUMERIC_OPS.concat(["contains", "starts_with", "matches", "in", "not in"]);
  var READS_PROPERTY = { distinct: 1, sum: 1, avg: 1, min: 1, max: 1 };

  var root, tree, status, textarea, endpoint, catalog;
  var model = { kind: "all", items: [] };
  var lastText = null; // the text this script last put in the text area
  var sequence = 0; // answers older than the latest request are dropped
  var fits = true;
  var printTimer = null;
  var readTimer = null;
  var uid = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function select(options, value, label, onChange) {
    var node = el("select", { "aria-label": label });
    options.forEach(function (option) {
      var item = el("option", { value: option[0], text: option[1] });
      if (option[0] === value) item.selected = true;
      node.appendChild(item);
    });
    node.addEventListener("change", function () {
      onChange(node.value);
      structureChanged();
    });
    return node;
  }

  // A text input; `list` names a <datalist> of suggestions.
  function input(value, label, onInput, attrs) {
    var node = el("input", Object.assign({ type: "text", "aria-label": label, autocomplete: "off" }, attrs || {}));
    node.value = value === undefined || value === null ? "" : String(value);
    node.addEventListener("input", function () {
      onInput(node.value);
      valueChanged();
    });
    // Enter in a builder box must not submit the editor's form.
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    return node;
  }

  function datalist(values) {
    var id = "builder-list-" + uid++;
    var list = el("datalist", { id: id });
    values.forEach(function (value) {
      list.appendChild(el("option", { value: value }));
    });
    return { id: id, node: list };
  }

  function button(text, label, onClick, className) {
    var node = el("button", { type: "button", className: className || "small", text: text, "aria-label": label });
    node.addEventListener("click", function () {
      onClick();
      structureChanged();
    });
    return node;
  }

  // What people type in a value box, as a JSON value: numbers and
  // true/false as such, "quoted" text as text, a,b,c as a list for `in`.
  function parseValue(text, op) {
    var trimmed = text.trim();
    if (op === "in" || op === "not in") {
      return trimmed === "" ? [] : trimmed.split(",").map(function (part) { return parseValue(part, "="); });
    }
    if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
    if (trimmed === "true" || trimmed === "false") return trimmed === "true";
    if (/^".*"$/.test(trimmed)) return trimmed.slice(1, -1);
    return text;
  }

  function showValue(value) {
    if (Array.isArray(value)) return value.map(showValue).join(", ");
    if (typeof value === "string" && (/^-?\d+(\.\d+)?$/.test(value.trim()) || value === "true" || value === "false")) {
      return '"' + value + '"';
    }
    return value === undefined || value === null ? "" : String(value);
  }

  // ── Events and their properties, from the catalog ──

  function eventKey(pick) {
    return pick.kind === "event" ? "event:" + (pick.name || "") : pick.kind;
  }

  function eventOptions(pick) {
    var options = [["event:", "— pick an event —"]];
    var seen = {};
    catalog.events.forEach(function (event) {
      var key = event.kind === "event" ? "event:" + event.name : event.kind;
      var label = event.kind === "event" ? event.name : event.kind === "any" ? "any event" : event.kind + " views";
      seen[key] = true;
      options.push([key, label + " (" + event.count.toLocaleString("en-US") + ")"]);
    });
    var current = eventKey(pick);
    if (!seen[current] && current !== "event:") options.push([current, pick.name]);
    return options;
  }

  function properties(pick) {
    return catalog.properties[eventKey(pick)] || [];
  }

  function eventPicker(pick, label) {
    var box = el("span", { className: "b-event" });
    box.appendChild(select(eventOptions(pick), eventKey(pick), label, function (value) {
      if (value.indexOf("event:") === 0) {
        pick.kind = "event";
        pick.name = value.slice(6);
      } else {
        pick.kind = value;
        pick.name = "";
      }
    }));
    var props = properties(pick);
    var names = datalist(props.map(function (p) { return p.name; }));
    box.appendChild(names.node);
    (pick.where || []).forEach(function (filter, i) {
      // The value suggestions follow the property as it is typed.
      var values = datalist([]);
      var suggest = function () {
        var seen = props.filter(function (p) { return p.name === filter.property.trim(); })[0];
        values.node.textContent = "";
        (seen ? seen.values : []).forEach(function (value) {
          values.node.appendChild(el("option", { value: showValue(value) }));
        });
      };
      suggest();
      box.appendChild(el("span", { className: "b-where" }, [
        el("span", { className: "b-word", text: i === 0 ? "where" : "and" }),
        input(filter.property, "property", function (v) { filter.property = v; suggest(); }, { list: names.id, size: "10", className: "b-property" }),
        select(FILTER_OPS.map(function (op) { return [op, op]; }), filter.op || "=", "operator", function (v) {
          filter.op = v;
          filter.value = parseValue(showValue(filter.value), v);
        }),
        values.node,
        input(showValue(filter.value), "value", function (v) { filter.value = parseValue(v, filter.op); }, { list: values.id, size: "12", className: "b-value" }),
        button("×", "remove this filter", function () { pick.where.splice(i, 1); }, "small b-remove"),
      ]));
    });
    box.appendChild(button("+ where", "add a where filter", function () {
      pick.where = pick.where || [];
      var first = props[0];
      pick.where.push({ property: first ? first.name : "", op: "=", value: "" });
    }, "small b-add-where"));
    return box;
  }

  function windowPicker(measure) {
    var win = measure.window || { kind: "all" };
    measure.window = win;
    var box = el("span", { className: "b-window" }, [
      select([["all", "all time"], ["last", "in the last"], ["ago", "between … ago"], ["within_of", "within … of the first"]], win.kind, "window", function (v) {
        if (v === "last") measure.window = { kind: "last", length: "7d" };
        else if (v === "ago") measure.window = { kind: "ago", from: "60d", to: "30d" };
        else if (v === "within_of") measure.window = { kind: "within_of", length: "48h", anchor: { kind: "event", name: "", where: [] } };
        else measure.window = { kind: "all" };
      }),
    ]);
    if (win.kind === "last") {
      box.appendChild(input(win.length, "window length", function (v) { win.length = v; }, { size: "4", className: "b-length" }));
    } else if (win.kind === "ago") {
      box.appendChild(input(win.from, "window start, how long ago", function (v) { win.from = v; }, { size: "4" }));
      box.appendChild(el("span", { className: "b-word", text: "and" }));
      box.appendChild(input(win.to, "window end, how long ago", function (v) { win.to = v; }, { size: "4" }));
      box.appendChild(el("span", { className: "b-word", text: "ago" }));
    } else if (win.kind === "within_of") {
      box.appendChild(input(win.length, "window length", function (v) { win.length = v; }, { size: "4", className: "b-length" }));
      box.appendChild(el("span", { className: "b-word", text: "of the first" }));
      box.appendChild(eventPicker(win.anchor, "anchor event"));
    }
    return box;
  }

  function comparison(node, ops) {
    return el("span", { className: "b-compare" }, [
      select(ops.map(function (op) { return [op, op]; }), node.op || ">=", "comparison", function (v) { node.op = v; }),
      input(node.value, "number", function (v) { node.value = v.trim() === "" ? NaN : Number(v); }, { size: "5", inputmode: "decimal", className: "b-number" }),
    ]);
  }

  // ── Leaves ──

  function measureEditor(measure) {
    measure.event = measure.event || { kind: "event", name: "", where: [] };
    var parts = [select(FUNCTIONS, measure.function || "count", "aggregate", function (v) { measure.function = v; })];
    if (measure.function !== "active_days") parts.push(eventPicker(measure.event, "event"));
    if (READS_PROPERTY[measure.function]) {
      var names = datalist(properties(measure.event).map(function (p) { return p.name; }));
      parts.push(el("span", { className: "b-word", text: "of" }));
      parts.push(names.node);
      parts.push(input(measure.property, "property", function (v) { measure.property = v; }, { list: names.id, size: "10" }));
    }
    if (measure.function !== "days_since") parts.push(windowPicker(measure));
    if (measure.function !== "exists") parts.push(comparison(measure, NUMERIC_OPS));
    return parts;
  }

  function eachEditor(each) {
    var names = datalist(properties(each.lead || {}).map(function (p) { return p.name; }));
    return [
      el("span", { className: "b-word", text: "each of the last" }),
      input(each.count, "how many", function (v) { each.count = Number(v) || 0; }, { size: "3", className: "b-count" }),
      eventPicker(each.lead, "lead event"),
      el("span", { className: "b-word", text: "was followed by" }),
      eventPicker(each.follower, "following event"),
      el("span", { className: "b-word", text: "on" }),
      names.node,
      input(each.on, "matching property", function (v) { each.on = v; }, { list: names.id, size: "10", className: "b-on" }),
      el("span", { className: "b-word", text: "within" }),
      input(each.within, "longest delay (empty: any)", function (v) { each.within = v; }, { size: "4", placeholder: "any" }),
    ];
  }

  function names(list, current) {
    var options = [["", "— pick —"]].concat(list.map(function (n) { return [n, n]; }));
    if (current && list.indexOf(current) < 0) options.push([current, current + " (not defined)"]);
    return options;
  }

  function scoreEditor(node) {
    return [
      el("span", { className: "b-word", text: "score" }),
      select(names(catalog.scores, node.name), node.name, "score", function (v) { node.name = v; }),
      comparison(node, NUMERIC_OPS),
    ];
  }

  function segmentEditor(node) {
    return [
      el("span", { className: "b-word", text: "in segment" }),
      select(names(catalog.segments, node.name), node.name, "segment", function (v) { node.name = v; }),
    ];
  }

  function tierEditor(node) {
    var tier = catalog.tiers.filter(function (t) { return t.name === node.name; })[0];
    return [
      el("span", { className: "b-word", text: "tier" }),
      select(names(catalog.tiers.map(function (t) { return t.name; }), node.name), node.name, "tier", function (v) { node.name = v; node.level = ""; }),
      select([["=", "is"], ["!=", "is not"]], node.op || "=", "comparison", function (v) { node.op = v; }),
      select(names(tier ? tier.levels : [], node.level), node.level, "level", function (v) { node.level = v; }),
    ];
  }

  function traitEditor(node) {
    return [
      input(node.path, "trait (trait.key or account.key)", function (v) { node.path = v; }, { size: "14", placeholder: "trait.plan" }),
      select(FILTER_OPS.map(function (op) { return [op, op]; }), node.op || "=", "operator", function (v) { node.op = v; }),
      input(showValue(node.value), "value", function (v) { node.value = parseValue(v, node.op); }, { size: "12" }),
    ];
  }

  var NEW = {
    measure: function () {
      return { kind: "measure", function: "count", event: { kind: "event", name: "", where: [] }, property: "", window: { kind: "all" }, op: ">=", value: 1 };
    },
    each: function () {
      return { kind: "each", count: 3, lead: { kind: "event", name: "", where: [] }, follower: { kind: "event", name: "", where: [] }, on: "", within: "" };
    },
    score: function () { return { kind: "score", name: catalog.scores[0] || "", op: ">=", value: 50 }; },
    in_segment: function () { return { kind: "in_segment", name: catalog.segments[0] || "" }; },
    tier: function () {
      var tier = catalog.tiers[0];
      return { kind: "tier", name: tier ? tier.name : "", op: "=", level: tier && tier.levels[0] ? tier.levels[0] : "" };
    },
    trait: function () { return { kind: "trait", path: "trait.", op: "=", value: "" }; },
    group: function () { return { kind: "any", items: [] }; },
  };

  function leafEditor(node) {
    switch (node.kind) {
      case "measure": return measureEditor(node);
      case "each": return eachEditor(node);
      case "score": return scoreEditor(node);
      case "in_segment": return segmentEditor(node);
      case "tier": return tierEditor(node);
      case "trait": return traitEditor(node);
      default: return [el("span", { className: "muted", text: node.kind })];
    }
  }

  // ── Groups ──

  // One item of a group: a "not" box, the condition, a remove button.
  // `slot` reads and replaces the item in its parent.
  function itemRow(slot, path) {
    var node = slot.get();
    var negated = node.kind === "not";
    var inner = negated ? node.item : node;
    var innerPath = negated ? path.concat([0]) : path;
    var not = el("input", { type: "checkbox", "aria-label": "not", className: "b-not" });
    not.checked = negated;
    not.addEventListener("change", function () {
      slot.set(not.checked ? { kind: "not", item: inner } : inner);
      structureChanged();
    });
    var body = inner.kind === "all" || inner.kind === "any"
      ? groupEditor(inner, innerPath)
      : el("span", { className: "b-leaf" }, leafEditor(inner));
    return el("li", { className: "b-item", "data-path": innerPath.join(".") }, [
      el("label", { className: "b-not-label" }, [not, document.createTextNode(" not")]),
      body,
      button("Remove", "remove this condition", slot.remove, "small b-remove"),
    ]);
  }

  function groupEditor(group, path) {
    var list = el("ol", { className: "b-items" });
    group.items.forEach(function (_, i) {
      list.appendChild(itemRow({
        get: function () { return group.items[i]; },
        set: function (value) { group.items[i] = value; },
        remove: function () { group.items.splice(i, 1); },
      }, path.concat([i])));
    });
    var adders = el("div", { className: "b-adders" }, Object.keys(NEW).map(function (kind) {
      var labels = { measure: "+ Event condition", each: "+ Each … followed by", score: "+ Score", in_segment: "+ Segment", tier: "+ Tier", trait: "+ Trait", group: "+ Group" };
      var add = button(labels[kind], "add " + labels[kind].slice(2).toLowerCase(), function () { group.items.push(NEW[kind]()); }, "small");
      add.dataset.add = kind;
      return add;
    }));
    return el("div", { className: "b-group", "data-path": path.join(".") }, [
      el("div", { className: "b-group-head" }, [
        select([["all", "All of these hold"], ["any", "Any of these holds"]], group.kind, "combine with", function (v) { group.kind = v; }),
      ]),
      list,
      adders,
    ]);
  }

  function render() {
    tree.textContent = "";
    var top = groupEditor(model, []);
    top.id = "builder-root";
    var fieldset = el("fieldset", { className: "b-fieldset" }, [top]);
    fieldset.disabled = !fits;
    tree.appendChild(fieldset);
  }

  function say(message, isError) {
    status.textContent = message || "";
    status.classList.toggle("error", Boolean(isError));
  }

  function markAt(path) {
    tree.querySelectorAll(".b-incomplete").forEach(function (node) { node.classList.remove("b-incomplete"); });
    if (!path) return;
    var node = tree.querySelector('[data-path="' + path.join(".") + '"]');
    if (node) node.classList.add("b-incomplete");
  }

  // ── Round trips ──

  function post(body) {
    var mine = ++sequence;
    return fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (answer) { return mine === sequence ? answer : null; });
  }

  // A number box left empty or not a number (NaN, which JSON cannot carry).
  function hasBadNumber(value) {
    if (typeof value === "number") return !isFinite(value);
    if (value && typeof value === "object") {
      return Object.keys(value).some(function (key) { return hasBadNumber(value[key]); });
    }
    return false;
  }

  // The builder changed: print it into the text area, which the live
  // preview (app.js) follows through the form's input event.
  function print() {
    if (hasBadNumber(model)) {
      say("To update the text: enter a number in each comparison.", true);
      return;
    }
    post({ model: model }).then(function (answer) {
      if (!answer) return;
      if (answer.error) {
        markAt(answer.error.at);
        say("To update the text: " + answer.error.reason + ".", true);
        return;
      }
      markAt(null);
      say("");
      if (answer.text !== textarea.value) {
        lastText = answer.text;
        textarea.value = answer.text;
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }
      root.dataset.synced = "true";
    }).catch(function () { say("The builder could not reach the server.", true); });
  }

  function structureChanged() {
    root.dataset.synced = "false";
    render();
    clearTimeout(printTimer);
    print();
  }

  function valueChanged() {
    root.dataset.synced = "false";
    clearTimeout(printTimer);
    printTimer = setTimeout(print, 250);
  }

  // The text changed: show it in the builder if it fits.
  function read() {
    var text = textarea.value;
    post({ text: text }).then(function (answer) {
      if (!answer) return;
      if (answer.unfit) {
        fits = false;
        render();
        say("The builder can't show `" + answer.unfit.text + "`: " + answer.unfit.reason + ". Edit the text, or make that part fit.", true);
      } else if (answer.model) {
        fits = true;
        var m = answer.model;
        model = m.kind === "all" || m.kind === "any" ? m : { kind: "all", items: [m] };
        markAt(null);
        render();
        say("");
      }
      lastText = text;
      root.dataset.synced = "true";
    }).catch(function () { say("The builder could not reach the server.", true); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("builder");
    textarea = document.getElementById("when");
    var data = document.getElementById("builder-data");
    if (!root || !textarea || !data || !window.fetch) return;
    try {
      catalog = JSON.parse(data.textContent);
    } catch (error) {
      return;
    }
    ["events", "scores", "segments", "tiers"].forEach(function (key) { catalog[key] = catalog[key] || []; });
    catalog.properties = catalog.properties || {};
    tree = document.getElementById("builder-tree");
    status = document.getElementById("builder-status");
    endpoint = root.dataset.endpoint;
    root.hidden = false;
    // The builder's own boxes are not the form's fields: the live preview
    // follows the text area, which print() updates.
    root.addEventListener("input", function (event) { event.stopPropagation(); });
    textarea.addEventListener("input", function () {
      if (textarea.value === lastText) return;
      root.dataset.synced = "false";
      clearTimeout(readTimer);
      readTimer = setTimeout(read, 300);
    });
    render();
    if (textarea.value.trim() !== "") read();
    else root.dataset.synced = "true";
  });
})();
