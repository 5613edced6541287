// The result pane: totals, the layer table, the chart and the diagram, drawn from the
// JSON of POST /api/count. Nothing here computes a count; every number is the server's.
"use strict";

const LearnableView = (() => {
  const $ = (id) => document.getElementById(id);

  // The report's layer fields, in the order the command line shows them. `shown: "any"`
  // columns appear only when some layer has something in them (as the CLI's table does).
  const COLUMNS = [
    { key: "name", header: "Layer" },
    { key: "type", header: "Type" },
    { key: "output_shape", header: "Output shape", cell: (r) => shapeText(r.output_shape) },
    { key: "params", header: "Params", numeric: true },
    { key: "trainable", header: "Trainable", numeric: true },
    { key: "non_trainable", header: "Non-trainable", numeric: true, shown: "any" },
    { key: "buffers", header: "Buffers", numeric: true, shown: "any" },
    { key: "formula", header: "Params arithmetic", math: true, cell: (r) => (isZero(r.params) ? "" : r.formula) },
    { key: "shape_formula", header: "Shape arithmetic", math: true },
    { key: "buffers_formula", header: "Buffers arithmetic", math: true, shown: "any" },
    { key: "note", header: "Note", text: true, shown: "any" },
  ];
  // Layer fields that are structure, not columns.
  const STRUCTURE = new Set(["block", "inputs", "weights"]);
  // Families of optional fields a report carries beyond the parameters (MACs, memory,
  // receptive fields): each has a toggle, and shows only when it is on.
  const FAMILIES = ["macs", "memory", "receptive"];
  // Headers for the fields known today; any other field gets its key, humanized.
  const HEADERS = { macs: "MACs", macs_formula: "MACs arithmetic", total_macs: "MACs",
    macs_unknown: "MACs not known for (the total counts the others)", receptive_formula: "Receptive field arithmetic" };
  const TOTALS = [
    ["total_params", "Total params"],
    ["trainable_params", "Trainable params"],
    ["non_trainable_params", "Non-trainable params"],
    ["total_buffers", "Buffers (not params)", "any"],
  ];

  function familyOf(key) {
    return FAMILIES.find((f) => key === f || key.startsWith(`${f}_`) || key.endsWith(`_${f}`)) || null;
  }

  // The families this report has fields of, for the page to offer their toggles.
  function families(report) {
    const keys = [...Object.keys(report), ...report.layers.flatMap((layer) => Object.keys(layer))];
    return new Set(keys.map(familyOf).filter(Boolean));
  }

  function isZero(value) {
    return value === 0 || value === 0n || value === undefined || value === null;
  }

  function number(value) {
    return typeof value === "number" || typeof value === "bigint" ? value.toLocaleString("en-US") : String(value ?? "");
  }

  function shapeText(shape) {
    // no shape traced (a checkpoint's tensors, code without an input): an empty cell, as the CLI's
    if (shape.every((d) => d === null)) return "";
    const dims = shape.map((d) => (d === null ? "None" : String(d))).join(", ");
    return shape.length === 1 ? `(${dims},)` : `(${dims})`;
  }

  function humanize(key) {
    if (HEADERS[key]) return HEADERS[key];
    const words = key.replace(/^total_/, "").replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // The hook for fields the report gains: every number or text field of a layer that is
  // neither a known column nor structure becomes a column, when its family is shown.
  function extraColumns(layers, shown) {
    const known = new Set([...COLUMNS.map((c) => c.key), ...STRUCTURE]);
    const found = new Map();
    for (const layer of layers) {
      for (const [key, value] of Object.entries(layer)) {
        const family = familyOf(key);
        if (known.has(key) || found.has(key) || (family && !shown.has(family))) continue;
        if (value === null || !["number", "bigint", "string"].includes(typeof value)) continue;
        const numeric = typeof value !== "string";
        found.set(key, { key, header: humanize(key), numeric, math: key.endsWith("_formula"), shown: "any" });
      }
    }
    // Active params differ from params only in a mixture of experts: elsewhere the column repeats them.
    if (layers.every((layer) => String(layer.active_params ?? layer.params) === String(layer.params))) {
      found.delete("active_params");
    }
    return [...found.values()];
  }

  // Report-level totals the report gains (total_macs, ...): a card each; lists of names
  // (macs_unknown) a note.
  function extraTotals(report, shown) {
    const known = new Set([...TOTALS.map((t) => t[0]), "schema_version"]);
    const visible = (key) => !known.has(key) && (!familyOf(key) || shown.has(familyOf(key)));
    const cards = Object.keys(report).filter((key) => visible(key) && ["number", "bigint"].includes(typeof report[key]) &&
      !(key === "active_params" && String(report[key]) === String(report.total_params))); // mixture of experts only
    const lists = Object.keys(report).filter((key) => visible(key) && familyOf(key) && Array.isArray(report[key]) &&
      report[key].length && report[key].every((item) => typeof item === "string"));
    return { cards: cards.map((key) => [key, humanize(key)]),
      notes: [...lists.map((key) => `${humanize(key)}: ${report[key].join(", ")}`), ...(report.notes || [])] };
  }

  function chooseColumns(layers, shown) {
    const extra = extraColumns(layers, shown);
    const firstMath = COLUMNS.findIndex((c) => c.math);
    const all = [...COLUMNS.slice(0, firstMath), ...extra.filter((c) => c.numeric),
      ...COLUMNS.slice(firstMath), ...extra.filter((c) => !c.numeric)];
    return all.filter((c) => c.shown !== "any" || layers.some((r) => !isZero(r[c.key]) && r[c.key] !== ""));
  }

  // Each block use as a row with its subtotal, its layers indented beneath it (the
  // tree fully open, as the HTML report shows it).
  function displayRows(report) {
    const blocks = new Map(report.blocks.map((b) => [b.name, b]));
    const shown = new Set();
    const rows = [];
    for (const layer of report.layers) {
      const chain = [];
      for (let b = layer.block; b !== null && b !== undefined; b = blocks.get(b).parent) chain.unshift(b);
      chain.forEach((name, level) => {
        if (shown.has(name)) return;
        shown.add(name);
        const block = blocks.get(name);
        rows.push({ row: { ...block, type: `${block.type} (block)` }, level, parent: block.parent, block: true });
      });
      rows.push({ row: layer, level: chain.length, parent: layer.block, block: false });
    }
    return rows;
  }

  function shortName(name, parent) {
    const sep = parent ? name.charAt(parent.length) : "";
    return parent && name.startsWith(parent) && (sep === "/" || sep === ".") ? name.slice(parent.length + 1) : name;
  }

  function renderTable(report, shown) {
    const columns = chooseColumns(report.layers, shown);
    const head = document.createElement("tr");
    for (const c of columns) {
      const th = document.createElement("th");
      th.textContent = c.header;
      if (c.numeric) th.className = "num";
      head.append(th);
    }
    const body = document.createDocumentFragment();
    for (const { row, level, parent, block } of displayRows(report)) {
      const tr = document.createElement("tr");
      if (block) tr.className = "block";
      tr.dataset.layer = row.name;
      for (const c of columns) tr.append(cell(c, row, level, parent));
      body.append(tr);
    }
    $("layers").tHead.replaceChildren(head);
    $("layers").tBodies[0].replaceChildren(body);
  }

  function cell(column, row, level, parent) {
    const td = document.createElement("td");
    if (column.key === "name") {
      td.textContent = shortName(row.name, parent);
      td.style.paddingLeft = `${10 + 18 * level}px`;
      return td;
    }
    const value = column.cell ? column.cell(row) : row[column.key];
    td.className = column.numeric ? "num" : column.math ? "math" : column.text ? "text" : "";
    if (column.numeric && value === null) {
      td.textContent = "unknown"; // null is a count not known, never zero
      td.classList.add("unknown");
    } else {
      const text = column.numeric ? number(value) : String(value ?? "");
      if (column.math) td.append(LearnableUnits.foldedText(text));
      else if (column.numeric && /(^|_)bytes$/.test(column.key) && value !== "") td.append(LearnableUnits.bytesNode(value));
      else td.textContent = text;
      if (column.text) td.title = td.textContent;
    }
    return td;
  }

  function renderTotals(report, shown) {
    const extra = extraTotals(report, shown);
    const cards = [...TOTALS, ...extra.cards]
      .filter(([key, , shown]) => report[key] !== undefined && (shown !== "any" || !isZero(report[key])))
      .map(([key, label]) => {
        const card = document.createElement("div");
        card.className = "card";
        card.dataset.total = key;
        const value = document.createElement("b");
        if (key.endsWith("_bytes")) value.append(LearnableUnits.bytesNode(report[key]));
        else value.textContent = number(report[key]);
        const caption = document.createElement("span");
        caption.textContent = label;
        card.append(value, caption);
        return card;
      });
    $("totals").replaceChildren(...cards);
    $("total-notes").replaceChildren(...extra.notes.map(note));
  }

  function note(text) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    return p;
  }

  // The chart and the diagram are SVG drawn by the server's HTML renderer, which escapes
  // every name in them.
  function renderFigures(payload) {
    $("chart").replaceChildren();
    if (payload.chart) {
      LearnableChart.draw($("chart"), payload.report); // chart.js: drawn here, to fit the pane
    } else {
      $("chart").append(note(payload.figures_note || "No layer has parameters."));
    }
    $("diagram").innerHTML = payload.diagram || "";
    if (!payload.diagram && payload.figures_note) $("diagram").append(note(payload.figures_note));
  }

  // `shown`: the families of optional fields (MACs, ...) whose toggles are on.
  function showReport(payload, shown) {
    const report = payload.report;
    const title = payload.title || report.name || "Unnamed network";
    $("model-name").textContent = title;
    document.title = `${title} · learnable`;
    renderTotals(report, shown);
    $("convention-text").textContent = payload.convention_text ? `Convention: ${payload.convention_text}` : "";
    renderTable(report, shown);
    renderFigures(payload);
    LearnableSizing.show(shown.has("memory") ? payload : null); // sizing.js: memory, fit, compute
  }

  return { showReport, families, number };
})();
