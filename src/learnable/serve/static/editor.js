// The code editor: CodeMirror 6 (vendor/codemirror.min.js, bundled from frontend/) over the
// page's textarea #spec. The textarea stays the page's model of the text: its `value` reads
// and writes the editor, and a user's edit fires its "input" event, so app.js (the count
// as one types, the address, the starting points) works on it unchanged. Without the bundle
// the textarea is left as it was.
"use strict";

const LearnableEditor = (() => {
  const CM = window.CM;
  const textarea = document.getElementById("spec");
  if (!CM || !textarea) return { mark() {}, showLine() {}, hoverLine() {}, onCursor() {}, view: null };

  const language = new CM.Compartment();
  const wrapping = new CM.Compartment();
  const WRAP_KEY = "learnable.wrap";
  let kind = "";
  const native = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value");
  let programmatic = false; // a change app.js made through `value`, not the user's typing
  const cursorListeners = [];

  // Which highlighting the text wants: model code, a JSON object (a config.json or a JSON
  // spec), else YAML (the compact form reads well as YAML too).
  function kindOf(text) {
    if (/^\s*(import|from)\s+\w|^\s*(class|def)\s+\w+|\bnn\.\w+\(|\bkeras\.\w+/m.test(text)) return "python";
    return /^\s*[{[]/.test(text) ? "json" : "yaml";
  }

  const LANGUAGES = { python: () => CM.python(), json: () => CM.json(), yaml: () => CM.yaml() };

  function chooseLanguage(text) {
    const wanted = kindOf(text);
    if (wanted === kind) return [];
    kind = wanted;
    host.dataset.language = wanted;
    return [language.reconfigure(LANGUAGES[wanted]())];
  }

  // A line of the editor lit for a layer hovered or chosen elsewhere on the page.
  const setLit = CM.StateEffect.define();
  const litLine = CM.StateField.define({
    create: () => CM.Decoration.none,
    update(lit, tr) {
      lit = lit.map(tr.changes);
      for (const effect of tr.effects) {
        if (!effect.is(setLit)) continue;
        const line = effect.value;
        lit = line ? CM.Decoration.set([CM.Decoration.line({ class: "cm-linked-line" }).range(
          tr.state.doc.line(line).from)]) : CM.Decoration.none;
      }
      return lit;
    },
    provide: (field) => CM.EditorView.decorations.from(field),
  });

  function updated(update) {
    if (update.docChanged && !programmatic) {
      native.set.call(textarea, update.state.doc.toString()); // for readers of the element itself
      const effects = chooseLanguage(update.state.doc.toString());
      if (effects.length) queueMicrotask(() => view.dispatch({ effects }));
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    if (update.selectionSet && !programmatic) { // the user moved the cursor: the other views follow
      const head = update.state.selection.main.head;
      const line = update.state.doc.lineAt(head);
      for (const listener of cursorListeners) listener(line.number, head - line.from + 1);
    }
  }

  const host = document.createElement("div");
  host.className = "cm-host";
  host.id = "editor-host";
  const view = new CM.EditorView({
    parent: host,
    state: CM.EditorState.create({
      doc: textarea.value,
      extensions: [
        CM.lineNumbers(), CM.highlightActiveLineGutter(), CM.highlightActiveLine(), CM.history(), CM.drawSelection(),
        CM.indentOnInput(), CM.bracketMatching(), CM.syntaxHighlighting(CM.classHighlighter), CM.lintGutter(),
        // no indentWithTab: Tab leaves the editor, so keyboard users are never trapped in it (WCAG 2.1.2)
        CM.keymap.of([...CM.defaultKeymap, ...CM.historyKeymap]),
        CM.EditorState.tabSize.of(2), language.of([]), wrapping.of(wrapOn() ? CM.EditorView.lineWrapping : []),
        litLine, CM.EditorView.updateListener.of(updated),
        CM.EditorView.contentAttributes.of({ "aria-label": textarea.getAttribute("aria-label"), spellcheck: "false",
          autocapitalize: "off", autocorrect: "off", tabindex: "0" }),  // tabindex: axe counts the text as focusable
      ],
    }),
  });
  const editorBox = textarea.closest(".editor");
  editorBox.classList.add("cm");
  editorBox.append(host);

  // app.js reads and writes #spec.value: both go to the editor.
  Object.defineProperty(textarea, "value", {
    configurable: true,
    get: () => view.state.doc.toString(),
    set(text) {
      native.set.call(textarea, text);
      if (text === view.state.doc.toString()) return;
      programmatic = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, effects: chooseLanguage(text) });
      } finally {
        programmatic = false;
      }
    },
  });
  view.dispatch({ effects: chooseLanguage(view.state.doc.toString()) });

  // --- wrapping long lines: a choice kept in this browser ------------------------------
  function wrapOn() {
    try { return localStorage.getItem(WRAP_KEY) === "1"; } catch { return false; }
  }

  function offerWrap() {
    const label = document.createElement("label");
    label.className = "option wrap-option";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = "wrap";
    box.checked = wrapOn();
    box.addEventListener("change", () => {
      try { localStorage.setItem(WRAP_KEY, box.checked ? "1" : "0"); } catch { /* private mode: this page only */ }
      view.dispatch({ effects: wrapping.reconfigure(box.checked ? CM.EditorView.lineWrapping : []) });
    });
    label.append(box, " Wrap long lines");
    editorBox.before(label);
  }
  offerWrap();

  // --- marks from the server and from the other views --------------------------------

  function clampLine(line) {
    return Math.min(Math.max(1, line), view.state.doc.lines);
  }

  // The server's error at its line and column (a whole line where it names no column).
  function mark(error) {
    const diagnostics = [];
    if (error && error.line && error.line <= view.state.doc.lines) {
      const line = view.state.doc.line(error.line);
      const from = error.column ? Math.min(line.from + error.column - 1, line.to) : line.from;
      const to = from < line.to ? (error.column ? wordEnd(line, from) : line.to) : from;
      diagnostics.push({ from, to, severity: "error", message: error.message || "" });
    }
    view.dispatch(CM.setDiagnostics(view.state, diagnostics));
  }

  function wordEnd(line, from) {
    const rest = line.text.slice(from - line.from);
    const match = /^[\w.]+/.exec(rest);
    return from + (match ? match[0].length : Math.min(1, rest.length));
  }

  // A layer chosen elsewhere: the cursor goes to its line (and column), scrolled into view.
  function showLine(line, column) {
    if (!line) return;
    const target = view.state.doc.line(clampLine(line));
    const at = column ? Math.min(target.from + column - 1, target.to) : target.from;
    programmatic = true; // not the user's move: the views that asked need no echo
    try {
      view.dispatch({ selection: { anchor: at }, effects: [setLit.of(target.number),
        CM.EditorView.scrollIntoView(at, { y: "center" })] });
    } finally {
      programmatic = false;
    }
  }

  // A layer hovered elsewhere: its line lit, the cursor left where it is.
  function hoverLine(line) {
    view.dispatch({ effects: setLit.of(line ? clampLine(line) : null) });
  }

  return { mark, showLine, hoverLine, onCursor: (listener) => cursorListeners.push(listener), view,
    language: () => kind };
})();
