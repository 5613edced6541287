// Sizes, long formulas and titles as a reader wants them. `humanBytes` is the CLI's rule
// (learnable._text.human: binary units, one decimal, rounded half up in integers), so the
// page and the terminal print the same "4.8 GiB"; the exact bytes go in a tooltip.
"use strict";

const LearnableUnits = (() => {
  const UNITS = [["GiB", 2n ** 30n], ["MiB", 2n ** 20n], ["KiB", 2n ** 10n]];
  const FOLD_AT = 160; // characters: about two lines of the pane; longer arithmetic folds

  function grouped(value) {
    return BigInt(value).toLocaleString("en-US");
  }

  // In BigInt, as Python's integers: a 405B model's bytes pass 2^53.
  function humanBytes(value) {
    const size = BigInt(value);
    for (const [unit, scale] of UNITS) {
      if (size >= scale) {
        const tenths = (size * 10n + scale / 2n) / scale;
        return `${grouped(tenths / 10n)}.${tenths % 10n} ${unit}`;
      }
    }
    return `${grouped(size)} B`;
  }

  function exactBytes(value) {
    return `${grouped(value)} bytes`;
  }

  // A span reading "4.8 GiB" whose tooltip holds the exact count.
  function bytesNode(value) {
    const span = document.createElement("span");
    span.className = "bytes";
    span.textContent = humanBytes(value);
    span.title = exactBytes(value);
    span.dataset.bytes = String(value);
    return span;
  }

  // Text past FOLD_AT characters shows its start and a "show all" toggle for the rest.
  function foldedText(text) {
    const box = document.createElement("span");
    box.className = "folded";
    if (text.length <= FOLD_AT) {
      box.textContent = text;
      return box;
    }
    const shown = document.createElement("span");
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "fold-toggle";
    const set = (open) => {
      shown.textContent = open ? text : `${text.slice(0, FOLD_AT)}…`;
      toggle.textContent = open ? "show less" : `show all ${text.length.toLocaleString("en-US")} characters`;
      toggle.setAttribute("aria-expanded", String(open));
      box.classList.toggle("open", open);
    };
    toggle.addEventListener("click", () => set(!box.classList.contains("open")));
    set(false);
    box.append(shown, " ", toggle);
    return box;
  }

  // "line 2, column 7: YAML syntax error…" → the position once, in front, and the message.
  function errorParts(error) {
    const match = /^\s*line (\d+)(?:, column (\d+))?[:,]?\s*/i.exec(error.message || "");
    const line = error.line || (match && Number(match[1])) || null;
    const column = error.column || (match && match[2] && Number(match[2])) || null;
    const message = match ? error.message.slice(match[0].length) : error.message || "";
    const where = line ? `Line ${line}${column ? `, column ${column}` : ""}` : "Error";
    return { where, message };
  }

  return { humanBytes, exactBytes, bytesNode, foldedText, errorParts, FOLD_AT };
})();
