// The parts of CodeMirror 6 the calculator's editor uses, as one global: window.CM.
// Built by build.mjs into src/learnable/serve/static/vendor/codemirror.min.js.
export { EditorState, Compartment, StateEffect, StateField } from "@codemirror/state";
export { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
  Decoration } from "@codemirror/view";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export { syntaxHighlighting, bracketMatching, indentOnInput } from "@codemirror/language";
export { classHighlighter } from "@lezer/highlight";
export { linter, lintGutter, setDiagnostics } from "@codemirror/lint";
export { yaml } from "@codemirror/lang-yaml";
export { python } from "@codemirror/lang-python";
export { json } from "@codemirror/lang-json";
