// Shared by the browser tests: start a binary that prints the dashboard
// URL, launch headless Chromium, poll until a condition holds, clean up.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const repo = resolve(import.meta.dirname, "../..");
export const shots = process.env.SCREENSHOT_DIR ?? join(repo, "target/browser-test");
mkdirSync(shots, { recursive: true });
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

const children = [];
const dirs = [];

/** Starts `bin args…` in a fresh directory; resolves with the dashboard URL it prints. */
export function start(bin, args) {
  const cwd = mkdtempSync(join(tmpdir(), "twin-e2e-"));
  dirs.push(cwd);
  const child = spawn(bin, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no dashboard URL from ${bin}:\n${out}\n${err}`)), 30000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) {
        clearTimeout(timer);
        ok({ url: m[1], child });
      }
    });
    child.on("exit", (code) => fail(new Error(`${bin} exited (${code}) before printing a URL:\n${out}\n${err}`)));
  });
}

/** A persistent headless Chromium context at 1920×1080. */
export async function browser() {
  const profile = mkdtempSync(join(tmpdir(), "twin-chromium-"));
  dirs.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1920, height: 1080 },
  });
}

/** Kills what `start` started and removes the temporary directories. */
export function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Polls `f` until it returns a truthy value. */
export async function until(what, f, ms = 15000) {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const api = async (url, path) => (await fetch(new URL(path, url))).json();
