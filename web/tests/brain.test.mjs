// Brain view against the demo's brain member (76 Epileptor regions, the
// temporal-average monitor every 10 ms): regions appear, their colours
// follow the monitor, clicking a region shows its trace.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
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

test("brain view: the demo's regions appear, change colour, and show a clicked region's trace", async () => {
  const bin = process.env.TWIN_BIN;
  assert.ok(bin, "TWIN_BIN must name the twin binary");
  const { url } = await start(bin, ["demo", "--pacing", "1", "--end", "60s", "--dashboard-port", "0", "--quiet"]);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(url);
  await page.click('#network-pane [data-view="brain"]');
  assert.equal(await page.evaluate(() => window.twin.view), "brain");

  // The regions of the synthetic 76-region connectome, with labels.
  await until("76 regions", () => page.evaluate(() => window.twin.brain.centres.length === 76 && window.twin.brain.mesh?.count === 76));
  const labels = await page.evaluate(() => window.twin.brain.labels);
  assert.equal(labels.length, 76);
  await until("monitor data", () => page.evaluate(() => window.twin.brain.colours.length === 76));
  assert.equal(await page.isHidden("#brain-empty"), true);
  const voi = await page.evaluate(() => [...document.querySelectorAll("#brain-var option")].map((o) => o.textContent));
  assert.ok(voi.length >= 1 && voi[0].startsWith("tavg: "), `variables: ${voi}`);
  const legend = await page.textContent("#brain-legend");
  assert.ok(/\d/.test(legend), `legend shows the range: ${legend}`);

  // Colours follow the monitor: sim time advances and the colours change
  // (the brain runs slower than real time on a busy machine: poll).
  const snap = () => page.evaluate(() => ({ c: window.twin.brain.colours.slice(), t: window.twin.brain.current().last.t_ns }));
  const c1 = await snap();
  const c2 = await until("colours change", async () => {
    const c = await snap();
    return c.t > c1.t && c1.c.filter((x, i) => x !== c.c[i]).length >= 10 && c;
  }, 20000);
  assert.ok(c2.t > c1.t, `monitor time advances: ${c1.t} → ${c2.t}`);
  // The brain's newest sample and the federation time agree: a status that
  // lagged the data once showed 3.6 s beside brain samples at 5.9 s. The
  // brain may lead by a step in flight plus a status period (250 ms).
  let lead = -Infinity;
  for (let k = 0; k < 8; k++) {
    const g = await page.evaluate(() => (window.twin.brain.current().last.t_ns - window.twin.federation.time_ns) / 1e9);
    lead = Math.max(lead, g);
    await sleep(300);
  }
  assert.ok(lead < 1.5, `brain samples lead the federation time by ${lead.toFixed(2)} s`);
  // The colour of each region is the scale at its value.
  const consistent = await page.evaluate(() => {
    const b = window.twin.brain;
    const cur = b.current();
    return b.colours.every((hex, i) => {
      const v = cur.last.values[cur.row * cur.n + i];
      return Number.isFinite(v) && v >= cur.lo && v <= cur.hi && /^[0-9a-f]{6}$/.test(hex);
    });
  });
  assert.ok(consistent, "every region's value lies in the legend's range");

  // Click region 5 where it is drawn: it is selected and its trace drawn.
  await sleep(300);
  const target = await page.evaluate(() => {
    // A region not hidden behind another: the one nearest the camera.
    const b = window.twin.brain;
    let best = 0;
    let bestD = Infinity;
    b.centres.forEach(([x, y, z], i) => {
      const d = b.camera.position.distanceTo({ x, y: z, z: -y });
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    });
    return { i: best, p: b.screenPos(best) };
  });
  await page.mouse.click(target.p.x, target.p.y);
  await until("region selected", () => page.evaluate((i) => window.twin.brain.selected.includes(i), target.i));
  const traced = await page.evaluate(() => window.twin.brain.traced);
  assert.deepEqual(traced, [labels[target.i]]);
  // The trace canvas has coloured pixels of the first trace colour.
  await sleep(500);
  const inked = await page.evaluate(() => {
    const cv = document.getElementById("brain-traces");
    const d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.abs(d[i] - 0x1f) < 40 && Math.abs(d[i + 2] - 0xb4) < 40) n++;
    return n;
  });
  assert.ok(inked > 50, `the selected region's trace is drawn (${inked} trace pixels)`);
  // The demo's two virtual SEEG shafts (12 channels) and its 19 scalp EEG
  // electrodes: a set selector, a channel list, stacked traces.
  await until("SEEG and EEG channels", () => page.evaluate(() => {
    const s = window.twin.brain.channelSets;
    return s.get("seeg")?.hist.length > 10 && s.get("eeg")?.hist.length > 10;
  }));
  await page.selectOption("#brain-chset", "seeg");
  const ch = await page.evaluate(() => ({ labels: window.twin.brain.channels.labels, variable: window.twin.brain.channels.variable }));
  assert.deepEqual(ch.labels, ["A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2", "B3", "B4", "B5", "B6"]);
  assert.equal(await page.isVisible("#brain-channels"), true);
  assert.equal(await page.textContent("#brain-chname"), "SEEG channels");
  await page.screenshot({ path: join(shots, "brain-1920x1080.png") });
  await page.selectOption("#brain-chset", "eeg");
  const montage = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz", "C4", "T4", "T5", "P3", "Pz", "P4", "T6", "O1", "O2"];
  assert.equal(await page.textContent("#brain-chname"), "EEG channels");
  assert.deepEqual(await page.evaluate(() => window.twin.brain.channels.labels), montage);
  assert.deepEqual(await page.$$eval("#brain-chlist button", (b) => b.map((x) => x.textContent)), montage);
  await until("19 EEG traces", () => page.evaluate(() => window.twin.brain.channelsDrawn?.length === 19));
  // The scalp map beside the traces: one spot per electrode, the map red at
  // the electrode with the largest value and blue at the smallest.
  assert.equal(await page.isVisible("#brain-scalp"), true);
  const scalp = await until("scalp map", () => page.evaluate(() => {
    const m = window.twin.brain.scalp;
    if (!m) return null;
    const cv = document.getElementById("brain-scalp");
    const dpr = cv.width / cv.clientWidth;
    const g = cv.getContext("2d");
    // The map under an electrode's (hollow) ring, sampled at its centre.
    const rgb = (k) => [...g.getImageData(Math.round(m.at[k][0] * dpr), Math.round(m.at[k][1] * dpr), 1, 1).data];
    const hi = m.values.indexOf(Math.max(...m.values));
    const lo = m.values.indexOf(Math.min(...m.values));
    return { n: m.labels.length, span: m.span, hi: rgb(hi), lo: rgb(lo), vhi: m.values[hi], vlo: m.values[lo],
      inside: m.at.every(([x, y]) => x > 0 && y > 0 && x < cv.clientWidth && y < cv.clientHeight) };
  }));
  assert.equal(scalp.n, 19);
  assert.ok(scalp.inside, "every electrode lies on the map");
  assert.ok(scalp.vhi > 0 && scalp.vlo < 0, `average reference: values ${scalp.vlo} … ${scalp.vhi}`);
  assert.ok(scalp.hi[0] > scalp.hi[2] + 20, `red at the largest value (${scalp.vhi}): rgb ${scalp.hi}`);
  assert.ok(scalp.lo[2] > scalp.lo[0] + 20, `blue at the smallest value (${scalp.vlo}): rgb ${scalp.lo}`);
  // Average reference: the electrodes' values sum to about zero, and they move.
  const eeg = await page.evaluate(() => {
    const h = window.twin.brain.channels.hist;
    const last = [...h[h.length - 1].values];
    const first = [...h[0].values];
    return { sum: last.reduce((a, b) => a + b, 0), max: Math.max(...last.map(Math.abs)), moved: last.some((v, i) => v !== first[i]) };
  });
  assert.ok(Math.abs(eeg.sum) <= 1e-3 * eeg.max, `EEG channels sum to ${eeg.sum} (max |v| ${eeg.max})`);
  assert.ok(eeg.moved, "EEG values change over time");
  // Hiding a channel in the list removes its trace.
  await page.click('#brain-chlist button[data-channel="9"]');
  await until("Cz hidden", () => page.evaluate(() => window.twin.brain.channelsDrawn.length === 18 && !window.twin.brain.channelsDrawn.includes("Cz")));
  assert.equal(await page.getAttribute('#brain-chlist button[data-channel="9"]', "aria-pressed"), "false");
  await page.click('#brain-chlist button[data-channel="9"]');
  await until("Cz shown", () => page.evaluate(() => window.twin.brain.channelsDrawn.includes("Cz")));
  await sleep(300);
  await page.screenshot({ path: join(shots, "brain-eeg-1920x1080.png") });
  // Clicking it again removes it.
  await page.mouse.click(target.p.x, target.p.y);
  await until("region deselected", () => page.evaluate((i) => !window.twin.brain.selected.includes(i), target.i));
  // Laptop size, dark theme: the scene follows the theme.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.click("#theme");
  await sleep(700);
  const bg = await page.evaluate(() => window.twin.brain.scene.background.getHexString());
  assert.equal(bg, "0b0f15", "dark scene background");
  await page.screenshot({ path: join(shots, "brain-dark-1366x768.png") });
  assert.deepEqual(problems, [], "no page errors");
  await page.close();
});

test("brain view: stimulated regions are marked (fixture brain)", async () => {
  const { url, child } = await start(process.env.FIXTURE_BIN, ["5", "10", "1", "60", "brain"]);
  const page = await context.newPage();
  await page.goto(`${url}?view=brain`);
  await until("12 regions", () => page.evaluate(() => window.twin.brain.mesh?.count === 12));
  // Every 2 s the stimulus moves between regions 2, 3 and 8, 9.
  const first = await until("a stimulus", () => page.evaluate(() => {
    const s = window.twin.brain.stimulus.regions;
    return s.length === 2 && window.twin.brain.rings.count === 2 && s.join(",");
  }));
  assert.ok(first === "2,3" || first === "8,9", first);
  const label = await page.textContent("#brain-stimulus");
  assert.ok(label === `stimulus on x: ${first === "2,3" ? "r2, r3" : "r8, r9"}`, label);
  const next = first === "2,3" ? "8,9" : "2,3";
  await until("the stimulus moves", () => page.evaluate((n) => window.twin.brain.stimulus.regions.join(",") === n, next), 5000);
  // The rings sit on the stimulated regions' centres.
  const placed = await page.evaluate(() => {
    const b = window.twin.brain;
    const m = new b.rings.matrixWorld.constructor();
    return b.stimulus.regions.map((i, k) => {
      b.rings.getMatrixAt(k, m);
      const [x, y, z] = b.centres[i];
      return Math.hypot(m.elements[12] - x, m.elements[13] - z, m.elements[14] + y);
    });
  });
  assert.ok(placed.every((d) => d < 1e-6), `ring offsets ${placed}`);
  await page.screenshot({ path: join(shots, "brain-stimulus.png") });
  await page.close();
  child.kill("SIGTERM");
});

test("brain view: the brain's own scheduled stimulus is marked, with its onsets on the time axes", async () => {
  // A pulse train of 100 ms every 500 ms from 200 ms on regions 2 and 5,
  // scheduled in the scenario (it never crosses the bus as a stimulus).
  const dir = mkdtempSync(join(tmpdir(), "twin-stim-"));
  const scenario = join(dir, "stim.toml");
  writeFileSync(scenario, `
[federation]
name = "scheduled-stimulus"
end = "120s"
dt = "50ms"
pacing = 1.0
seed = 3

[[member]]
name = "brain"
kind = "brain"
[member.params]
connectome = "synthetic:12"
model = "Epileptor2D"
coupling = 0.0
dt_ms = 0.1
monitor_period_ms = 10.0
eeg = true
[[member.params.stimulus]]
temporal = { kind = "PulseTrain", T = 500.0, tau = 100.0, amp = 0.5, onset = 200.0 }
regions = [2, 5]
`);
  const { url, child } = await start(process.env.TWIN_BIN, ["run", scenario, "--dashboard-port", "0", "--quiet"]);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(`${url}?view=brain`);
  await until("12 regions", () => page.evaluate(() => window.twin.brain.mesh?.count === 12));
  const topic = "twin/brain/stimulus/scheduled";
  const st = await until("three onsets", () => page.evaluate((t) => {
    const s = window.twin.brain.stimuli.get(t);
    return s && s.onsets.length >= 3 && s;
  }, topic), 30000);
  // The targeted regions carry rings, whether or not a pulse is on.
  assert.deepEqual(st.targets, [2, 5]);
  assert.deepEqual(await page.evaluate(() => window.twin.brain.stimulus.regions), [2, 5]);
  assert.equal(await page.evaluate(() => window.twin.brain.rings.count), 2);
  const label = await page.textContent("#brain-stimulus");
  const names = await page.evaluate(() => [2, 5].map((i) => window.twin.brain.labels[i] ?? i).join(", "));
  assert.match(label, new RegExp(`^scheduled stimulus on x1: ${names} \\((on|off), \\d+ recent onsets\\)$`));
  // Onsets fall where the schedule puts them: within a step (0.1 ms) of
  // 200 + 500 k ms, every 500 ms.
  const ms = st.onsets.map((t) => t / 1e6);
  for (const [k, t] of ms.entries()) {
    const phase = (t - 200) % 500;
    assert.ok(Math.min(phase, 500 - phase) <= 0.1 + 1e-6, `onset ${k} at ${t} ms`);
    if (k > 0) assert.ok(Math.abs(t - ms[k - 1] - 500) <= 0.1 + 1e-6, `onsets ${ms[k - 1]} → ${t} ms`);
  }
  // Markers on the EEG traces, in the rings' amber.
  await until("markers drawn", () => page.evaluate(() => window.twin.brain.channelMarksDrawn >= 2));
  const amber = await page.evaluate(() => {
    const cv = document.getElementById("brain-channels");
    const d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] > 220 && Math.abs(d[i + 1] - 0xb0) < 30 && d[i + 2] < 60) n++;
    return n;
  });
  assert.ok(amber > 40, `marker pixels on the channel traces: ${amber}`);
  await page.screenshot({ path: join(shots, "brain-scheduled-stimulus-1920x1080.png") });
  assert.deepEqual(problems, [], "no page errors");
  await page.close();
  child.kill("SIGTERM");
});
