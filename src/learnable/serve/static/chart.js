// The parameters-per-layer chart: horizontal bars, largest first, each with its layer's
// whole name (cut with an ellipsis only by the box's width, whole in the tooltip) and its
// exact count. Linear by default, since a log axis makes 102 M look like twice 2.4 M;
// "share of total" and log on request. Drawn as HTML so it always fits its box; the PNG
// export draws the same bars on a canvas with a title and axes.
"use strict";

const LearnableChart = (() => {
  const TOP = 15; // rows shown before "… and M more"
  const SCALES = { linear: "Linear", share: "Share of total", log: "Log" };
  const state = { scale: "linear", all: false, report: null, box: null };

  const count = (value) => (typeof value === "bigint" ? value : Number(value)).toLocaleString("en-US");

  function rows(report) {
    return report.layers.filter((layer) => layer.params !== null && Number(layer.params) > 0)
      .sort((a, b) => Number(b.params) - Number(a.params));
  }

  // Each bar's length as a fraction of the track, and the text after it.
  function measure(layer, largest, total) {
    const value = Number(layer.params);
    const share = total > 0 ? value / total : 0;
    const percent = `${(share * 100).toLocaleString("en-US", { maximumFractionDigits: share < 0.001 ? 3 : 1 })}%`;
    if (state.scale === "share") return { fraction: share, text: percent };
    if (state.scale === "log") return { fraction: Math.log10(value + 1) / Math.log10(largest + 1), text: count(layer.params) };
    return { fraction: value / largest, text: count(layer.params) };
  }

  // "1 more layer", "2 more layers"
  function layers(count, noun) {
    return `${count.toLocaleString("en-US")} ${noun}${count === 1 ? "" : "s"}`;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function tooltip(layer, total) {
    const share = total > 0 ? ` (${(Number(layer.params) / total * 100).toFixed(2)}% of ${count(total)})` : "";
    let tip = `${layer.name} (${layer.type}): ${count(layer.params)} params${share}`;
    if (layer.non_trainable) tip += `; ${count(layer.trainable)} trainable, ${count(layer.non_trainable)} non-trainable`;
    return tip;
  }

  function barRow(layer, largest, total) {
    const { fraction, text } = measure(layer, largest, total);
    const item = element("li", "bar-row");
    item.dataset.layer = layer.name;
    item.title = tooltip(layer, total);
    const label = element("span", "bar-label", layer.name);
    const track = element("span", "bar-track");
    const bar = element("span", "bar");
    bar.style.width = `${Math.max(0.3, fraction * 100).toFixed(2)}%`;
    track.append(bar);
    item.append(label, track, element("span", "bar-value", text));
    return item;
  }

  function controls() {
    const group = element("div", "chart-scale");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Chart scale");
    for (const [scale, name] of Object.entries(SCALES)) {
      const button = element("button", "", name);
      button.type = "button";
      button.dataset.scale = scale;
      button.setAttribute("aria-pressed", String(scale === state.scale));
      button.addEventListener("click", () => { state.scale = scale; redraw(); });
      group.append(button);
    }
    return group;
  }

  function moreLine(hidden) {
    const line = element("p", "chart-more");
    const button = element("button", "", state.all ? "show the top 15 only" : "show all");
    button.type = "button";
    button.addEventListener("click", () => { state.all = !state.all; redraw(); });
    line.append(state.all ? "" : `… and ${layers(hidden, "more layer")} with parameters `, button);
    return line;
  }

  function redraw() {
    const { box, report } = state;
    if (!box || !report) return;
    const all = rows(report);
    if (!all.length) return box.replaceChildren(element("p", "note", "No layer has parameters."));
    const largest = Number(all[0].params);
    const total = Number(report.total_params) || all.reduce((sum, layer) => sum + Number(layer.params), 0);
    const shown = state.all ? all : all.slice(0, TOP);
    const list = element("ol", `bars${state.all && all.length > TOP ? " all" : ""}`);
    list.setAttribute("aria-label", `Parameters per layer, largest first (${SCALES[state.scale].toLowerCase()})`);
    list.append(...shown.map((layer) => barRow(layer, largest, total)));
    const parts = [controls(), list];
    if (all.length > TOP) parts.push(moreLine(all.length - shown.length));
    const without = report.layers.length - all.length;
    parts.push(element("p", "note", `${SCALES[state.scale]} scale, largest first; hover a bar for its count.` +
      (without ? ` ${layers(without, "layer")} without parameters ${without === 1 ? "is" : "are"} not shown.` : "")));
    box.replaceChildren(...parts);
  }

  function draw(box, report) {
    if (state.report && state.report.name !== report.name) state.all = false;
    Object.assign(state, { box, report });
    redraw();
  }

  // --- PNG ----------------------------------------------------------------------------

  const PNG = { width: 960, left: 260, right: 130, top: 64, row: 24, bottom: 56 };

  function ticks(largest) {
    if (state.scale === "share") return [0, 0.25, 0.5, 0.75, 1].map((f) => [f, `${f * 100}%`]);
    if (state.scale === "log") {
      const top = Math.log10(largest + 1);
      return Array.from({ length: Math.floor(top) + 1 }, (_, k) => [Math.log10(10 ** k + 1) / top, `1e${k}`]);
    }
    // round steps (1, 2 or 5 times a power of ten), at most five of them under the largest bar
    const power = Math.max(1, 10 ** Math.floor(Math.log10(Math.max(largest, 1) / 4))); // whole parameters
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => largest / s <= 5) || 10 * power;
    return Array.from({ length: Math.floor(largest / step) + 1 }, (_, k) => [k * step / largest,
      (k * step).toLocaleString("en-US")]);
  }

  function clipTo(context, text, width) {
    if (context.measureText(text).width <= width) return text;
    let cut = text;
    while (cut.length > 1 && context.measureText(`…${cut}`).width > width) cut = cut.slice(1);
    return `…${cut}`; // the end of a layer's path names it
  }

  function paint(context, title) {
    const all = rows(state.report);
    const shown = state.all ? all : all.slice(0, TOP);
    const largest = Number(all[0].params);
    const total = Number(state.report.total_params);
    const plot = PNG.width - PNG.left - PNG.right;
    const base = PNG.top + shown.length * PNG.row;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, PNG.width, base + PNG.bottom);
    context.fillStyle = "#1f2328";
    context.font = "600 18px system-ui, sans-serif";
    context.fillText(title, 16, 28);
    context.font = "13px system-ui, sans-serif";
    context.fillStyle = "#59636e";
    const scope = shown.length < all.length ? `the ${shown.length} largest of ${all.length} layers` : `${all.length} layers`;
    context.fillText(`Parameters per layer (${SCALES[state.scale].toLowerCase()} scale), ${scope}`, 16, 48);
    for (const [fraction, label] of ticks(largest)) {
      const x = PNG.left + fraction * plot;
      context.strokeStyle = "#e6eaef";
      context.beginPath(); context.moveTo(x, PNG.top - 4); context.lineTo(x, base); context.stroke();
      context.fillStyle = "#59636e";
      context.textAlign = "center";
      context.fillText(label, x, base + 16);
    }
    shown.forEach((layer, i) => {
      const { fraction, text } = measure(layer, largest, total);
      const y = PNG.top + i * PNG.row;
      context.fillStyle = "#0969da";
      context.fillRect(PNG.left, y + 4, Math.max(1, fraction * plot), PNG.row - 8);
      context.fillStyle = "#1f2328";
      context.textAlign = "right";
      context.fillText(clipTo(context, layer.name, PNG.left - 24), PNG.left - 8, y + PNG.row / 2 + 4);
      context.textAlign = "left";
      context.fillText(text, PNG.left + fraction * plot + 6, y + PNG.row / 2 + 4);
    });
    context.strokeStyle = "#8c959f";
    context.beginPath(); context.moveTo(PNG.left, PNG.top - 4); context.lineTo(PNG.left, base);
    context.lineTo(PNG.left + plot, base); context.stroke();
    context.fillStyle = "#1f2328";
    context.textAlign = "center";
    const axis = state.scale === "share" ? "Share of all parameters" : `Parameters${state.scale === "log" ? " (log)" : ""}`;
    context.fillText(axis, PNG.left + plot / 2, base + 38);
    context.save();
    context.translate(18, PNG.top + (base - PNG.top) / 2);
    context.rotate(-Math.PI / 2);
    context.fillText("Layer", 0, 0);
    context.restore();
    return base + PNG.bottom;
  }

  // The chart as on screen (same scale, same rows) as a PNG blob, or null without bars.
  async function png(title) {
    if (!state.report || !rows(state.report).length) return null;
    const shown = state.all ? rows(state.report).length : Math.min(TOP, rows(state.report).length);
    const scale = 2; // sharp on high-density screens and in slides
    const canvas = document.createElement("canvas");
    canvas.width = PNG.width * scale;
    canvas.height = (PNG.top + shown * PNG.row + PNG.bottom) * scale;
    const context = canvas.getContext("2d");
    context.scale(scale, scale);
    paint(context, title);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  return { draw, png };
})();
