// Builds dist/ (embedded into the twin binary by crates/twin-dashboard):
// dist/index.html, dist/assets/app.js, dist/assets/app.css.
// Output names are fixed (no hashes) so the Rust side can list them.
// `node build.mjs OUTDIR` builds elsewhere (scripts/test-browser checks
// that the committed dist/ matches the sources).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2] ?? "dist";
mkdirSync(join(out, "assets"), { recursive: true });
await build({
  entryPoints: { app: "src/main.js" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: join(out, "assets"),
  legalComments: "none",
  logLevel: "info",
});
await build({
  entryPoints: { app: "src/style.css" },
  bundle: true,
  minify: true,
  outdir: join(out, "assets"),
  logLevel: "info",
});
copyFileSync("src/index.html", join(out, "index.html"));
