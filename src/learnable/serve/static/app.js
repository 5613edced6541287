// The calculator: the editor and its gutter, the request to the server as one types, the
// spec in the page's address, the starting points and the exports. The result pane is
// drawn by view.js.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const editor = $("spec");
  const DEBOUNCE_MS = 250; // long enough not to count half-typed words, short enough to feel live
  const EXPORTS = { markdown: ["md", "text/markdown"], csv: ["csv", "text/csv"], json: ["json", "application/json"],
    latex: ["tex", "application/x-tex"] };
  const state = { sent: 0, timer: 0, lastGood: null, options: [], lineCount: 0, errorLine: null };

  // --- talking to the server ---------------------------------------------------------

  // Counts beyond 2^53 would be rounded by JSON.parse; where the browser hands the
  // reviver the number's source text, such counts stay exact as BigInt.
  function parseExact(text) {
    return JSON.parse(text, (key, value, context) =>
      typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value) &&
      context && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value);
  }

  async function call(path, body) {
    const init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) };
    const response = await fetch(path, init);
    const text = await response.text();
    try {
      return { ok: response.ok, payload: parseExact(text) };
    } catch {
      return { ok: false, payload: { error: { message: `the server answered ${response.status} without JSON` } } };
    }
  }

  const CODE_FIELDS = { input: "code-input", model: "code-model", values: "code-values" };
  // The sizing controls, by their key in the page's address; their values go to the server as
  // sizingFields() says (each checked there: a bad one is an error naming it).
  const SIZING = { batch: "batch", context: "context", dtype: "dtype", kv: "kv-dtype", optimizer: "optimizer",
    lora: "lora-rank", targets: "lora-targets", gpu: "gpu", gib: "gpu-memory", tokens: "tokens", mfu: "mfu" };

  function countRequest() {
    const body = { spec: editor.value, convention: $("convention").value || null };
    for (const [field, id] of Object.entries(CODE_FIELDS)) {
      if ($(id).value.trim()) body[field] = $(id).value.trim(); // the server reads them for code only
    }
    for (const family of shownFamilies()) {
      if (state.options.includes(family)) body[family] = true; // an option this server's count() takes
    }
    if (body.memory) Object.assign(body, sizingFields());
    return body;
  }

  // An empty control is left out: the server's default. A number the browser cannot read is
  // sent as the text typed, so the server's message says what is wrong with it.
  function wholeField(id) {
    const text = $(id).value.trim();
    if (!text) return null;
    const value = Number(text);
    return Number.isFinite(value) ? value : text;
  }

  function sizingFields() {
    const memory = { batch: wholeField("batch") ?? 1, context: wholeField("context"), dtype: $("dtype").value || null,
      kv_dtype: $("kv-dtype").value || null, optimizer: $("optimizer").value || null };
    const fields = { memory };
    const rank = wholeField("lora-rank");
    if (rank !== null) fields.lora = { r: rank, targets: $("lora-targets").value.trim() };
    const gpu = $("gpu").value;
    if (gpu === "custom") {
      if ($("gpu-memory").value.trim()) fields.gpu_memory = `${$("gpu-memory").value.trim()}GiB`;
    } else if (gpu) {
      fields.gpu = gpu;
      const mfu = wholeField("mfu");
      if (mfu !== null) fields.mfu = mfu;
    }
    const tokens = wholeField("tokens");
    if (tokens !== null) fields.tokens = tokens;
    return fields;
  }

  function shownFamilies() {
    return new Set([...document.querySelectorAll("input[data-family]:checked")].map((box) => box.dataset.family));
  }

  async function countNow() {
    clearTimeout(state.timer);
    const ticket = ++state.sent;
    const request = countRequest();
    setStatus("Counting…");
    let result;
    try {
      result = await call("/api/count", request);
    } catch (err) {
      result = { ok: false, payload: { error: { message: `cannot reach the learnable server (${err.message}); ` +
        "is `learnable serve` still running?" } } };
    }
    if (ticket !== state.sent) return; // a newer edit is on its way; its answer will be shown
    if (result.ok) showResult(result.payload, request);
    else showError(result.payload.error || { message: "the server refused the request" });
  }

  function scheduleCount() {
    saveToAddress();
    clearTimeout(state.timer);
    state.timer = setTimeout(countNow, DEBOUNCE_MS);
  }

  // --- showing results and errors ------------------------------------------------------

  function showResult(payload, request) {
    state.lastGood = { payload, request };
    if (payload.source === "code") $("code-options").hidden = false;
    showSource(payload);
    LearnableView.showReport(payload, shownFamilies());
    offerToggles(LearnableView.families(payload.report));
    $("result").classList.remove("stale");
    $("error").hidden = true;
    markLine(null);
    LearnableEditor.mark(null);
    LearnableLinking.show(payload); // linking.js: table, graph and editor linked, the layer panel
    const report = payload.report;
    setStatus(`${report.layers.length} layers · ${LearnableView.number(report.total_params)} params · ` +
      `counted as ${report.convention === "pytorch" ? "PyTorch" : "Keras"} counts`);
  }

  // A dropped file's result is not the editor's text: say so, so the two are not read as one.
  function showSource(payload) {
    const note = $("source-note");
    note.hidden = payload.source !== "file";
    if (payload.source === "file") {
      note.textContent = `Counted from ${payload.file.names.join(", ")} (what was sent of it), not from the text ` +
        "in the editor; change the text to count that instead.";
    }
  }

  // The last good result stays on screen, dimmed, so a typo does not wipe the table.
  function showError(error) {
    const box = $("error");
    const where = document.createElement("b");
    const parts = LearnableUnits.errorParts(error); // the position once: "Line 2, column 7"
    where.textContent = parts.where;
    box.replaceChildren(where, document.createTextNode(parts.message));
    box.hidden = false;
    box.dataset.line = error.line || "";
    markLine(error.line || null);
    LearnableEditor.mark(error); // editor.js: the mark at its line and column
    $("result").classList.toggle("stale", state.lastGood !== null);
    setStatus(state.lastGood ? "Showing the last network that counted." : "");
  }

  function setStatus(text) {
    $("status").textContent = text;
  }

  // --- the editor's gutter -------------------------------------------------------------

  function lineHeight() {
    return parseFloat(getComputedStyle(editor).lineHeight) || 20;
  }

  function renderGutter() {
    const count = editor.value.split("\n").length;
    if (count !== state.lineCount) {
      state.lineCount = count;
      const lines = [];
      for (let n = 1; n <= count; n++) {
        const div = document.createElement("div");
        div.textContent = n;
        div.dataset.line = n;
        lines.push(div);
      }
      $("gutter").replaceChildren(...lines);
      markLine(state.errorLine);
    }
    syncScroll();
  }

  function markLine(line) {
    state.errorLine = line;
    for (const div of $("gutter").querySelectorAll(".bad")) div.classList.remove("bad");
    const div = line && $("gutter").children[line - 1];
    if (div) div.classList.add("bad");
    $("mark").hidden = !div;
    syncScroll();
  }

  function syncScroll() {
    $("gutter").scrollTop = editor.scrollTop;
    if (state.errorLine) {
      const top = 8 + (state.errorLine - 1) * lineHeight() - editor.scrollTop; // 8: the textarea's padding
      $("mark").style.top = `${top}px`;
    }
  }

  // --- the spec in the address -----------------------------------------------------------

  function saveToAddress() {
    const params = new URLSearchParams({ spec: editor.value });
    if ($("convention").value) params.set("convention", $("convention").value);
    for (const [field, id] of Object.entries(CODE_FIELDS)) {
      if ($(id).value.trim()) params.set(field, $(id).value.trim());
    }
    if (shownFamilies().size) params.set("show", [...shownFamilies()].join(","));
    if (shownFamilies().has("memory")) {
      for (const [key, id] of Object.entries(SIZING)) if ($(id).value.trim()) params.set(key, $(id).value.trim());
    }
    const hash = `#${params}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  function loadFromAddress() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (!params.has("spec")) return false;
    editor.value = params.get("spec");
    for (const [field, id] of Object.entries(CODE_FIELDS)) $(id).value = params.get(field) || "";
    if (Object.keys(CODE_FIELDS).some((field) => params.get(field))) $("code-options").hidden = false;
    $("convention").value = ["keras", "pytorch"].includes(params.get("convention")) ? params.get("convention") : "";
    const show = (params.get("show") || "").split(",");
    for (const box of document.querySelectorAll("input[data-family]")) box.checked = show.includes(box.dataset.family);
    $("memory-options").hidden = !show.includes("memory");
    for (const [key, id] of Object.entries(SIZING)) if (params.has(key)) $(id).value = params.get(key);
    showGpuMemory();
    renderGutter();
    return true;
  }

  // --- starting points and options -------------------------------------------------------

  async function loadStartingPoints() {
    const [examples, zoo] = await Promise.all([call("/api/examples"), call("/api/zoo")]);
    offerStartingPoints([...(examples.ok ? examples.payload : []), ...(zoo.ok ? zoo.payload : [])]);
    return examples.ok ? examples.payload : [];
  }

  // Grouped as the server says (examples, zoo CNNs, transformers); each option its title,
  // parameter count and source, its file name in the tooltip.
  function offerStartingPoints(entries) {
    const groups = new Map();
    for (const entry of entries) {
      const label = entry.group || "Examples";
      if (!groups.has(label)) groups.set(label, Object.assign(document.createElement("optgroup"), { label }));
      const size = entry.params !== undefined && entry.params !== null
        ? ` · ${LearnableView.number(entry.params)} params` : "";
      const option = new Option(`${entry.title || entry.name}${size}${entry.source ? ` · ${entry.source}` : ""}`,
        entry.spec);
      option.title = `${entry.name}: ${entry.description}`;
      option.dataset.name = entry.name;
      groups.get(label).append(option);
    }
    $("start").append(...groups.values());
  }

  async function loadOptions() {
    const result = await call("/api/info");
    state.options = result.ok ? result.payload.options : [];
    offerToggles(state.options);
    if (!result.ok) return;
    offerGpus(result.payload.accelerators || []);
    showGpuMemory();
    if ($("gpu").value && shownFamilies().has("memory")) countNow(); // a GPU from the address, now offered
  }

  // The GPU picker: the server's accelerator table, each with its memory, before "my own".
  function offerGpus(accelerators) {
    const select = $("gpu");
    const chosen = new URLSearchParams(location.hash.slice(1)).get("gpu") || select.value;
    const options = accelerators.map((a) => {
      const option = new Option(`${a.name} (${LearnableSizing.bytes(a.memory_bytes)})`, a.key);
      option.title = `${a.source}: ${LearnableView.number(a.bf16_flops / 1e12)} TFLOP/s dense bf16`;
      return option;
    });
    select.replaceChildren(select.options[0], ...options, select.querySelector('option[value="custom"]'));
    select.value = chosen;
  }

  function showGpuMemory() {
    const custom = $("gpu").value === "custom";
    $("gpu-memory-label").hidden = !custom;
    $("mfu").disabled = custom || !$("gpu").value; // the time needs a GPU's peak
  }

  // A toggle appears once there is something behind it: the report carries its fields, or
  // the server's count() takes it as an option.
  function offerToggles(families) {
    for (const family of families) {
      const label = $(`option-${family}`);
      if (label) label.hidden = false;
    }
  }

  function toggled(event) {
    $("memory-options").hidden = !shownFamilies().has("memory");
    saveToAddress();
    if (state.options.includes(event.target.dataset.family)) countNow(); // the server counts it on request
    else if (state.lastGood) LearnableView.showReport(state.lastGood.payload, shownFamilies());
  }

  function start(text) {
    editor.value = text;
    renderGutter();
    saveToAddress();
    countNow();
  }

  // --- exports -------------------------------------------------------------------------

  function download(name, blob) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  function fileStem() {
    const name = state.lastGood && (state.lastGood.payload.title || state.lastGood.payload.report.name);
    return (name || "network").replace(/[^\w.-]+/g, "_");
  }

  // Exports what is on screen: the last network that counted, even while the spec has an error.
  async function exportText(format) {
    if (!state.lastGood) return setStatus("Nothing to export yet: the spec has not counted.");
    const again = state.lastGood.request.again; // a dropped file: drop.js sends its header again
    const result = again ? await again(format) : await call("/api/count", { ...state.lastGood.request, format });
    if (!result.ok) return showError(result.payload.error);
    const [suffix, type] = EXPORTS[format];
    download(`${fileStem()}.${suffix}`, new Blob([result.payload.text], { type }));
  }

  // The chart as on screen, drawn on a canvas with a title and axes (chart.js): the server draws no bitmaps.
  async function exportPng() {
    const blob = await LearnableChart.png($("model-name").textContent);
    if (!blob) return setStatus("No chart to export: no layer has parameters.");
    download(`${fileStem()}-params.png`, blob);
  }

  // --- wiring --------------------------------------------------------------------------

  function wire() {
    editor.addEventListener("input", () => { renderGutter(); scheduleCount(); });
    editor.addEventListener("scroll", syncScroll);
    $("convention").addEventListener("change", () => { saveToAddress(); countNow(); });
    $("start").addEventListener("change", (event) => {
      if (event.target.value) start(event.target.value);
      event.target.selectedIndex = 0;
    });
    for (const box of document.querySelectorAll("input[data-family]")) box.addEventListener("change", toggled);
    $("gpu").addEventListener("change", showGpuMemory);
    for (const id of Object.values(SIZING)) {
      $(id).addEventListener($(id).tagName === "SELECT" ? "change" : "input", scheduleCount);
    }
    for (const id of Object.values(CODE_FIELDS)) $(id).addEventListener("input", scheduleCount);
    for (const button of document.querySelectorAll("button[data-export]")) {
      button.addEventListener("click", () => exportText(button.dataset.export));
    }
    $("export-png").addEventListener("click", exportPng);
    window.addEventListener("hashchange", () => { if (loadFromAddress()) countNow(); });
    // a model file dropped or chosen (drop.js): the count's options without the text's own fields;
    // its result outranks a spec count still on its way
    const fileOptions = () => {
      const body = countRequest();
      for (const key of ["spec", ...Object.keys(CODE_FIELDS)]) delete body[key];
      return body;
    };
    LearnableDrop.wire({ options: fileOptions, show: (payload, request) => { ++state.sent; showResult(payload, request); },
      fail: showError, status: setStatus });
  }

  async function main() {
    wire();
    const fromAddress = loadFromAddress();
    if (fromAddress) countNow();
    const [examples] = await Promise.all([loadStartingPoints(), loadOptions()]);
    if (!fromAddress && !editor.value) {
      const first = examples.find((e) => e.name.startsWith("deeplizard")) || examples[0];
      start(first ? first.spec : "Input(28, 28, 1) | Conv2D(32, 3) | Flatten() | Dense(10)");
    }
  }

  main();
})();
