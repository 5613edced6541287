// The sizing half of the result pane: the memory terms with their arithmetic, the KV cache
// per token and in all, what fits on the chosen GPU and what dominates, and the training
// compute and its time. Every number is the server's (POST /api/count's memory, fit and
// compute); this file only lays them out.
"use strict";

const LearnableSizing = (() => {
  const $ = (id) => document.getElementById(id);

  function number(value) {
    return typeof value === "number" || typeof value === "bigint" ? value.toLocaleString("en-US") : String(value ?? "");
  }

  // 85,899,345,920 → "80.0 GiB", the CLI's rule (units.js); the exact bytes in its tooltip.
  const bytes = (value) => LearnableUnits.humanBytes(value);
  const exactBytes = (value) => LearnableUnits.bytesNode(value);

  function big(value) {
    const n = Number(value);
    return n >= 1e7 ? `${number(value)} (${n.toExponential(2).replace("e+", "e")})` : number(value);
  }

  function duration(seconds) {
    if (seconds < 120) return `${seconds.toLocaleString("en-US", { maximumFractionDigits: 1 })} s`;
    if (seconds < 2 * 3600) return `${(seconds / 60).toLocaleString("en-US", { maximumFractionDigits: 1 })} min`;
    if (seconds < 3 * 86400) return `${(seconds / 3600).toLocaleString("en-US", { maximumFractionDigits: 1 })} hours`;
    return `${(seconds / 86400).toLocaleString("en-US", { maximumFractionDigits: 1 })} days`;
  }

  // `text`: a string, or a list of strings and nodes (a size with its tooltip).
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (Array.isArray(text)) node.append(...text);
    else if (text !== undefined) node.textContent = text;
    return node;
  }

  // "label: formula = value": the arithmetic first, its value after, as the table shows it.
  function line(label, formula, value, id) {
    const item = element("li");
    if (id) item.dataset.line = id;
    item.append(element("span", "what", `${label}: `));
    const math = element("span", "math");
    const text = typeof value === "string" ? value : null;
    if (formula && text !== formula && !(text && text.startsWith(`${formula} `))) {
      math.append(LearnableUnits.foldedText(formula), " = "); // a 2,563-character sum folds
    }
    math.append(typeof value === "string" ? LearnableUnits.foldedText(value) : value);
    item.append(math);
    return item;
  }

  function section(title, items, className = "estimate") {
    const box = element("section", className);
    box.append(element("h3", "", title));
    const list = element("ul");
    list.append(...items.filter(Boolean));
    box.append(list);
    return box;
  }

  function termLines(terms) {
    return terms.map((t) => line(t.label, t.formula, exactBytes(t.bytes), t.key));
  }

  // --- memory -------------------------------------------------------------------------

  function memoryParts(memory) {
    const context = memory.context ? `, context ${number(memory.context)}` : "";
    const parts = [section([`Inference memory (batch ${number(memory.batch)}, ${memory.dtype}${context}): `,
      exactBytes(memory.inference_bytes)], termLines(memory.inference))];
    const kv = kvLines(memory);
    if (kv.length) parts.push(section("KV cache", kv, "estimate kv"));
    if (memory.training.length) {
      parts.push(section([`Training memory (${memory.optimizer}): `, exactBytes(memory.training_bytes)],
        termLines(memory.training)));
    }
    if (memory.per_gpu && memory.per_gpu.length) {
      parts.push(section(["Per GPU: ", exactBytes(memory.per_gpu_bytes)], termLines(memory.per_gpu)));
    }
    parts.push(...(memory.notes || []).map((text) => element("p", "note", text)));
    return parts;
  }

  function kvLines(memory) {
    const per = memory.kv_cache_per_token;
    if (!per) return [];
    const all = memory.inference.find((t) => t.key === "kv_cache");
    return [line(`per token (${memory.kv_dtype})`, per.formula, exactBytes(per.bytes), "kv-per-token"),
      all && line(`in all: ${number(memory.context)} tokens × batch ${number(memory.batch)}`, all.formula,
        exactBytes(all.bytes), "kv-total")];
  }

  // --- what fits ----------------------------------------------------------------------

  function fitPart(fit, memory) {
    const parts = [element("h3", "", [`What fits on ${fit.gpu || "a GPU"}: `, exactBytes(fit.memory_bytes)])];
    const runs = [["Inference", fit.inference, memory && memory.inference_bytes],
      ["Training", fit.training, memory && memory.training_bytes]];
    for (const [what, one, needed] of runs) {
      if (one) parts.push(fitList(what, one, needed, fit.memory_bytes, memory));
    }
    return parts;
  }

  function fitList(what, fit, needed, budget, memory) {
    const list = element("ul", "fit-list");
    list.dataset.fit = what.toLowerCase();
    if (needed !== undefined && needed !== null) {
      const fits = BigInt(needed) <= BigInt(budget);
      const item = element("li", fits ? "fits" : "fits-not",
        [`${fits ? "✓ fits" : "✗ does not fit"}: batch ${number(memory.batch)}` +
        `${memory.context ? ` at context ${number(memory.context)}` : ""} needs `, exactBytes(needed)]);
      list.append(item);
    }
    list.append(largestBatch(fit));
    if (fit.max_context !== null || fit.context_unbounded) list.append(largestContext(fit));
    const top = fit.largest_term;
    list.append(line("dominated by", "", element("span", "", [`${top.label}: `, exactBytes(top.bytes)]), "dominates"));
    const box = element("section", "estimate");
    box.append(element("h4", "", what), list);
    return box;
  }

  function largestBatch(fit) {
    if (fit.max_batch === null) return line("largest batch", "", "any: no term grows with the batch", "max-batch");
    if (Number(fit.max_batch) < 1) {
      return line("largest batch", "", element("span", "", ["none: the fixed terms alone take ",
        exactBytes(fit.fixed_bytes)]), "max-batch");
    }
    return line("largest batch", fit.batch_formula, number(fit.max_batch), "max-batch");
  }

  function largestContext(fit) {
    const label = `largest context at batch ${number(fit.context_batch)}`;
    if (fit.context_unbounded) return line(label, "", `any: ${fit.context_formula}`, "max-context");
    return line(label, "", `${number(fit.max_context)} tokens (${fit.context_formula})`, "max-context");
  }

  // --- compute ------------------------------------------------------------------------

  function computeParts(compute) {
    const items = [];
    const per = compute.per_token;
    if (per) {
      items.push(line(`MACs per token at context ${number(per.context)}`, per.formula, big(per.macs), "macs-per-token"));
      items.push(line(`FLOPs per token (${compute.flops_per_mac} per MAC)`, "", big(compute.flops_per_token)));
    }
    const train = compute.training;
    if (train) {
      items.push(line(`training FLOPs, 6·N·D (N = ${number(train.n)}, D = ${number(train.tokens)} tokens)`,
        train.six_nd.formula, big(train.six_nd.flops), "six-nd"));
      if (train.per_layer) {
        items.push(line("training FLOPs, the per-layer sum (3 × 2 × MACs per token × D)", train.per_layer.formula,
          big(train.per_layer.flops), "per-layer"));
      }
      items.push(...timeLines(train));
    }
    const parts = [section("Compute", items)];
    parts.push(...(compute.notes || []).map((text) => element("p", "note", text)));
    return parts;
  }

  function timeLines(train) {
    const t = train.throughput;
    if (!t) return [];
    const at = `${t.gpus} × ${t.gpu} at MFU ${t.mfu}`;
    const lines = [line(`time at ${at}, 6·N·D`, "", duration(train.seconds.six_nd), "time")];
    if (train.seconds.per_layer !== null) {
      lines.push(line(`time at ${at}, per-layer sum`, "", duration(train.seconds.per_layer)));
    }
    return lines;
  }

  // `payload`: the count's answer when the Memory toggle is on, else null.
  function show(payload) {
    const parts = { memory: payload && payload.memory && memoryParts(payload.memory),
      fit: payload && payload.fit && fitPart(payload.fit, payload.memory),
      compute: payload && payload.compute && computeParts(payload.compute) };
    for (const [id, children] of Object.entries(parts)) {
      $(id).hidden = !children;
      $(id).replaceChildren(...(children || []));
    }
  }

  return { show, bytes };
})();
