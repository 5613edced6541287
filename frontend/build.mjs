// Bundles entry.js into one minified file the package ships (no CDN: the page works offline).
// Run `npm ci && npm run build` here; docs/serve.md says when.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";

const out = "../src/learnable/serve/static/vendor";
mkdirSync(out, { recursive: true });
// The page's Content-Security-Policy allows no inline <style> (style-src 'self'). style-mod,
// which CodeMirror writes its base theme with, uses a <style> tag in a document and a
// constructed stylesheet (document.adoptedStyleSheets, which the CSP allows) only in a shadow
// root: this takes the constructed stylesheet in a document too. The build fails if the line
// it changes is no longer there.
const STYLE_TAG_CHOICE = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";
const constructedSheets = {
  name: "constructed-sheets",
  setup(b) {
    b.onLoad({ filter: /style-mod[\\/]src[\\/]style-mod\.js$/ }, ({ path }) => {
      const source = readFileSync(path, "utf8");
      if (!source.includes(STYLE_TAG_CHOICE)) throw new Error(`${path}: the style tag choice has changed`);
      return { contents: source.replace(STYLE_TAG_CHOICE, "if (root.adoptedStyleSheets && win.CSSStyleSheet) {"),
        loader: "js" };
    });
  },
};

await build({
  plugins: [constructedSheets],
  entryPoints: ["entry.js"], bundle: true, minify: true, format: "iife", globalName: "CM",
  target: ["es2020"], legalComments: "none", outfile: `${out}/codemirror.min.js`,
});
copyFileSync("LICENSES.txt", `${out}/codemirror.LICENSE.txt`);
