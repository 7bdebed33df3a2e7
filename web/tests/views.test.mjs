// Time slider (replays the recent past held in the page), the globe view
// for WGS84 positions, link-quality colouring and transmission flashes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { browser, cleanup, shots, sleep, start, until } from "./helpers.mjs";

let context;
before(async () => {
  context = await browser();
});
after(async () => {
  await context?.close();
  cleanup();
});

const dist = (a, b) => Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);

test("time slider: scrubbing shows the past, live shows the present", async () => {
  const { url, child } = await start(process.env.FIXTURE_BIN, ["40", "10", "3", "60"]);
  const page = await context.newPage();
  await page.goto(url);
  await until("40 nodes", () => page.evaluate(() => window.twin.nodeCount === 40));
  await until("6 s of history", () => page.evaluate(() => window.twin.historyLength >= 12), 20000);
  assert.equal(await page.textContent("#live"), "● live");
  assert.match(await page.textContent("#scrub-time"), /^live · \d+ s held$/);

  // Drag the slider to the start: the drawn nodes are the oldest snapshot,
  // away from the live positions, and they stay put while live data flows.
  await page.$eval("#scrub", (s) => {
    s.value = "0";
    s.dispatchEvent(new Event("input"));
  });
  assert.equal(await page.evaluate(() => window.twin.replaying), true);
  const past = await page.evaluate(() => window.twin.drawnNodes);
  const live = await page.evaluate(() => window.twin.nodes);
  // (The oldest snapshot may predate a node's first position: compare the
  // nodes it holds.)
  const apart = Object.keys(live).filter((id) => past[id] && dist(past[id], live[id]) > 10).length;
  assert.ok(apart >= 30, `the past differs from the present (${apart} of 40 nodes apart)`);
  assert.match(await page.textContent("#scrub-time"), /^\d+\.\d s ago$/);
  await sleep(1000);
  const still = await page.evaluate(() => window.twin.drawnNodes);
  assert.deepEqual(still, past, "a replayed snapshot does not move");
  const later = await page.evaluate(() => window.twin.nodes);
  assert.ok(Object.keys(later).some((id) => dist(later[id], live[id]) > 1), "live data keeps arriving");
  await page.screenshot({ path: join(shots, "time-slider.png") });

  // Back to live.
  await page.click("#live");
  assert.equal(await page.evaluate(() => window.twin.replaying), false);
  const now = await page.evaluate(() => [window.twin.drawnNodes, window.twin.nodes]);
  assert.deepEqual(now[0], now[1]);
  await page.close();
  child.kill("SIGTERM");
});

test("globe, links and flashes: the AANET on the Earth's curvature", async () => {
  const bin = process.env.TWIN_BIN;
  const { url } = await start(bin, ["demo", "--pacing", "1", "--end", "60s", "--dashboard-port", "0", "--quiet"]);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(`${url}?layer=twin/net`);
  await until("22 nodes", () => page.evaluate(() => window.twin.layer === "twin/net" && window.twin.nodeCount === 22));
  await until("globe offered", () => page.isVisible("#globe-label"));
  await page.check("#globe");
  await sleep(800);
  // Each node sits at R + its (exaggerated) altitude from the Earth's centre,
  // in the direction of its latitude and longitude.
  const r = await page.evaluate(() => {
    const net = window.twin.net;
    const R = 6371008.8;
    const out = [];
    for (const n of net.nodes.values()) {
      const p = net.toScene(n, n.target.clone());
      out.push({ d: Math.hypot(p.x, p.y + R, p.z), want: R + n.target.z * net.zScale, ll: n.ll });
    }
    return { out, globe: net.globe, graticule: net.globeGroup?.children.length ?? 0 };
  });
  assert.equal(r.globe, true);
  assert.ok(r.graticule > 30, `graticule drawn (${r.graticule} lines)`);
  for (const { d, want, ll } of r.out) {
    assert.ok(ll && ll.length === 2, "nodes carry latitude and longitude");
    assert.ok(Math.abs(d - want) < 1, `node at ${d} m from the centre, want ${want}`);
  }
  // The span of the network (about 3,000 km) makes the curvature visible:
  // the farthest nodes lie well below the tangent plane.
  const drop = await page.evaluate(() => {
    const net = window.twin.net;
    let low = 0;
    for (const n of net.nodes.values()) low = Math.min(low, net.toScene(n, n.target.clone(), 0).y);
    return low;
  });
  assert.ok(drop < -20000, `curvature: lowest ground point ${drop.toFixed(0)} m`);
  // Links: published every second by the network member, coloured by
  // delivery probability (red 0 → yellow → green 1).
  const links = await until("links drawn", async () => {
    const l = await page.evaluate(() => window.twin.links);
    return l.length > 0 && l;
  }, 20000);
  for (const l of links) {
    assert.ok(l.pdr >= 0.01 && l.pdr <= 1, `pdr ${l.pdr}`);
    const [r, g] = l.rgb;
    if (l.pdr > 0.55) assert.ok(g > r, `good link ${l.a}-${l.b} (pdr ${l.pdr}) is green: ${l.rgb}`);
    if (l.pdr < 0.45) assert.ok(r > g, `poor link ${l.a}-${l.b} (pdr ${l.pdr}) is red: ${l.rgb}`);
  }
  // Flashes: off by default; on, nodes flash as their frame counts grow.
  assert.equal(await page.evaluate(() => window.twin.net.flashes), false);
  await page.check("#flashes");
  const f0 = await page.evaluate(() => window.twin.flashCount);
  await until("transmissions flash", async () => (await page.evaluate(() => window.twin.flashCount)) > f0 + 5, 10000);
  await page.screenshot({ path: join(shots, "globe-1920x1080.png") });
  await page.uncheck("#globe");
  assert.equal(await page.evaluate(() => window.twin.net.globe), false);
  assert.deepEqual(problems, [], "no page errors");
  await page.close();
});
