// Assistant panel against the fixture's fake assistant member, which
// answers from the bus in three growing updates and cites a position sample.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { browser, cleanup, shots, start, until } from "./helpers.mjs";

let context;
before(async () => {
  context = await browser();
});
after(async () => {
  await context?.close();
  cleanup();
});

test("assistant panel: a question gets a streamed answer with citations", async () => {
  const bin = process.env.FIXTURE_BIN;
  assert.ok(bin, "FIXTURE_BIN must name the fixture example");
  const { url, child } = await start(bin, ["30", "10", "2", "60", "assistant"]);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(url);
  await until("assistant connected", async () => (await page.textContent("#assistant-badge")) === "connected");
  await until("30 nodes", () => page.evaluate(() => window.twin.nodeCount === 30));

  await page.fill("#ask-text", "How many nodes are there?");
  await page.click("#ask-form button");
  // Record every text the panel shows until the final answer (done) is in.
  const seen = new Set();
  const states = new Set();
  const final = await until("final answer", async () => {
    const [e] = await page.evaluate(() => window.twin.assistant.snapshot());
    if (e?.shown) seen.add(e.shown);
    if (e?.state) states.add(e.state);
    return e?.done ? e : null;
  }, 10000);
  assert.ok(states.has("answering"), `shown as answering first: ${[...states]}`);
  assert.equal(final.state, "done");
  assert.equal(final.question, "How many nodes are there?");
  assert.equal(final.text, 'You asked: "How many nodes are there?". The network has 30 nodes. (fake assistant)');
  const partial = [...seen].filter((t) => t.startsWith("You asked") && t !== final.text);
  assert.ok(partial.length >= 1, `the answer streams in: ${JSON.stringify([...seen])}`);
  assert.equal(final.citations.length, 1);
  assert.equal(final.citations[0].topic, "twin/net/node/position");
  assert.match(final.citations[0].excerpt, /^node 0 at \(-?\d+ m, -?\d+ m\)$/);
  // What the user sees.
  const text = await page.textContent("#answers .qa");
  assert.ok(text.includes("The network has 30 nodes."), text);
  assert.ok(text.includes("twin/net/node/position"), text);
  assert.ok(text.includes("fake-assistant"), text);
  assert.ok(text.includes("finished"), text);
  await page.screenshot({ path: join(shots, "assistant-1920x1080.png") });

  // An empty question is refused in the page, nothing is sent.
  await page.fill("#ask-text", "   ");
  await page.click("#ask-form button");
  assert.equal(await page.textContent("#ask-msg"), "type a question first");
  assert.equal((await page.evaluate(() => window.twin.assistant.snapshot())).length, 1);
  assert.deepEqual(problems, [], "no page errors");
  await page.close();
  child.kill("SIGTERM");
});

test("assistant panel: without an assistant member the panel says so and cannot ask", async () => {
  const { url, child } = await start(process.env.FIXTURE_BIN, ["5", "10", "1", "60"]);
  const page = await context.newPage();
  await page.goto(url);
  await until("topics polled", () => page.evaluate(() => window.twin.nodeCount === 5));
  await until("badge", async () => (await page.textContent("#assistant-badge")) === "no assistant");
  assert.equal(await page.isVisible("#assistant-none"), true);
  assert.equal(await page.isDisabled("#ask-text"), true);
  const r = await page.evaluate(async () => {
    const r = await fetch("/api/assistant/ask", { method: "POST", body: JSON.stringify({ question: "hi" }) });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(r.status, 503);
  assert.equal(r.body.error.type, "no_assistant");
  await page.close();
  child.kill("SIGTERM");
});
