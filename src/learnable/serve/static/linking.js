// The three views linked: a layer hovered or clicked in the table, the graph or the editor
// is shown in the other two, and the panel explains the chosen one (its arithmetic, both
// conventions' counts, and what `learnable explain` says of its type). Every number is the
// server's: payload.layer_links, payload.conventions and payload.explanations.
"use strict";

const LearnableLinking = (() => {
  const $ = (id) => document.getElementById(id);
  const state = { payload: null, selected: null, byLine: new Map() };
  const number = (value) => LearnableView.number(value);

  function link(name) {
    return (state.payload && state.payload.layer_links && state.payload.layer_links[name]) || null;
  }

  // The graph's boxes are <g><title>NAME (TYPE) → shape…</title>…</g>: named here by the
  // longest layer name the title starts with.
  function nameNodes(names) {
    const sorted = [...names].sort((a, b) => b.length - a.length);
    for (const g of $("diagram").querySelectorAll("svg g")) {
      const title = g.querySelector("title");
      if (!title) continue;
      const name = sorted.find((n) => title.textContent.startsWith(`${n} (`));
      if (name !== undefined) {
        g.dataset.layer = name;
        g.classList.add("node");
      }
    }
  }

  function node(name) {
    return [...$("diagram").querySelectorAll("g.node")].find((g) => g.dataset.layer === name) || null;
  }

  function row(name) {
    return [...$("layers").tBodies[0].rows].find((tr) => tr.dataset.layer === name) || null;
  }

  function light(className, name) {
    for (const element of document.querySelectorAll(`.${className}`)) element.classList.remove(className);
    if (name === null) return;
    row(name)?.classList.add(className);
    node(name)?.classList.add(className);
  }

  // --- choosing and hovering ---------------------------------------------------------

  // `from`: the view the choice was made in ("table", "graph", "editor"); the others follow.
  function select(name, from) {
    state.selected = name;
    light("linked", name);
    const place = link(name);
    if (from !== "editor" && place) LearnableEditor.showLine(place.line, place.column);
    else if (place) LearnableEditor.hoverLine(place.line); // the cursor is there already: light the line
    if (from !== "table") row(name)?.scrollIntoView({ block: "nearest" });
    if (from !== "graph") node(name)?.scrollIntoView({ block: "nearest", inline: "nearest" });
    explain(name);
  }

  function hover(name) {
    light("hovered", name);
    const place = name === null ? null : link(name);
    LearnableEditor.hoverLine(place ? place.line : (state.selected && link(state.selected)?.line) || null);
  }

  function layerAt(event, selector) {
    const element = event.target.closest(selector);
    return element && element.dataset.layer !== undefined ? element.dataset.layer : null;
  }

  // The layer written at the cursor: on its line, the last one starting at or before it
  // (the compact form has several on one line).
  function layerAtCursor(line, column) {
    const here = state.byLine.get(line) || [];
    const before = here.filter(([, place]) => !place.column || place.column <= column);
    return (before.length ? before[before.length - 1] : here[0] || [null])[0];
  }

  function wire() {
    const table = $("layers");
    table.addEventListener("click", (event) => { const n = layerAt(event, "tr"); if (n !== null) select(n, "table"); });
    table.addEventListener("mouseover", (event) => hover(layerAt(event, "tr")));
    table.addEventListener("mouseleave", () => hover(null));
    // keyboard: in the focused table, the arrow keys choose the layer above or below
    table.parentElement.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      const names = [...table.tBodies[0].rows].map((tr) => tr.dataset.layer).filter(Boolean);
      if (!names.length) return;
      event.preventDefault();
      const at = names.indexOf(state.selected);
      const next = at < 0 ? 0 : Math.min(names.length - 1, Math.max(0, at + (event.key === "ArrowDown" ? 1 : -1)));
      select(names[next], "keyboard");
      row(names[next])?.scrollIntoView({ block: "nearest" });
    });
    const diagram = $("diagram");
    diagram.addEventListener("click", (event) => { const n = layerAt(event, "g.node"); if (n !== null) select(n, "graph"); });
    diagram.addEventListener("mouseover", (event) => hover(layerAt(event, "g.node")));
    diagram.addEventListener("mouseleave", () => hover(null));
    LearnableEditor.onCursor((line, column) => {
      const name = layerAtCursor(line, column);
      if (name !== null && name !== state.selected) select(name, "editor");
    });
  }

  // --- the panel -------------------------------------------------------------------------

  function panel() {
    let box = $("layer-panel");
    if (!box) {
      box = document.createElement("aside");
      box.id = "layer-panel";
      box.className = "layer-panel";
      box.setAttribute("aria-live", "polite");
      $("layers").closest(".scroll").after(box);
    }
    return box;
  }

  function element(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  function explain(name) {
    const layer = state.payload.report.layers.find((l) => l.name === name);
    const box = panel();
    if (!layer) { box.replaceChildren(); return; }
    const place = link(name);
    const title = element("h4", `${layer.name} · ${layer.type}`);
    const parts = [title];
    if (place && place.line) parts.push(element("p", `Line ${place.line} of the text`, "note"));
    if (layer.formula && layer.params) parts.push(element("p", layer.formula, "math own"));
    const pair = (state.payload.conventions || {})[name];
    if (pair) parts.push(conventionsTable(pair));
    const about = (state.payload.explanations || {})[place ? place.rule : layer.type];
    if (about) parts.push(explainBlock(about));
    box.replaceChildren(...parts);
  }

  // Keras's and PyTorch's counts of this layer side by side, with why they differ.
  function conventionsTable(pair) {
    const table = element("table", undefined, "conventions");
    const head = table.createTHead().insertRow();
    for (const text of ["Convention", "Params", "Arithmetic", "Not trainable / buffers"]) head.append(element("th", text));
    const body = table.createTBody();
    const rows = [["Keras", pair.keras_params, pair.keras_formula, `${number(pair.keras_non_trainable)} non-trainable`],
      ["PyTorch", pair.pytorch_params, pair.pytorch_formula,
        `${number(pair.pytorch_buffers)} buffers${pair.pytorch_buffers_formula ? ` = ${pair.pytorch_buffers_formula.split(" = ")[0]}` : ""}`]];
    for (const [label, params, formula, rest] of rows) {
      const tr = body.insertRow();
      tr.append(element("td", label), element("td", number(params), "num"), element("td", params ? formula : "", "math"),
        element("td", rest));
    }
    const wrap = element("div");
    wrap.append(element("p", pair.differs ? "The conventions count this layer differently:" :
      "Both conventions count this layer alike.", "note"), table);
    if (pair.note) wrap.append(element("p", pair.note, "note"));
    return wrap;
  }

  function explainBlock(about) {
    const details = element("details");
    details.open = true;
    details.append(element("summary", about.heading));
    if (about.doc) details.append(element("p", about.doc));
    if (about.formula) details.append(element("p", `params = ${about.formula}`, "math"));
    if (about.example) details.append(element("pre", about.example, "math"));
    return details;
  }

  // --- a new result ------------------------------------------------------------------------

  function show(payload) {
    state.payload = payload;
    state.byLine = new Map();
    const links = payload.layer_links || {};
    for (const [name, place] of Object.entries(links)) {
      if (!place.line) continue;
      if (!state.byLine.has(place.line)) state.byLine.set(place.line, []);
      state.byLine.get(place.line).push([name, place]);
    }
    for (const here of state.byLine.values()) here.sort((a, b) => (a[1].column || 0) - (b[1].column || 0));
    nameNodes(payload.report.layers.map((l) => l.name));
    const keep = state.selected !== null && payload.report.layers.some((l) => l.name === state.selected);
    if (keep) {
      light("linked", state.selected);
      explain(state.selected);
    } else {
      state.selected = null;
      panel().replaceChildren(element("p", "Click a layer in the table, the graph or the editor to see it explained.",
        "note"));
    }
  }

  wire();
  return { show, select };
})();
