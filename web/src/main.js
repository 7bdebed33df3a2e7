// Twin dashboard entry point: theme, REST polling of the federation panel,
// topic discovery, and the WebSocket feed into the network view.
// For tests and debugging, live state is exposed as `window.twin`.
import { Feed } from "./feed.js";
import { NetworkView } from "./network.js";
import { FederationPanel } from "./panel.js";
import { BrainView } from "./brain.js";
import { AssistantPanel } from "./assistant.js";

const $ = (id) => document.getElementById(id);

// Theme: the system's unless picked; the pick is remembered.
function currentDark() {
  const t = document.documentElement.dataset.theme;
  if (t) return t === "dark";
  return window.matchMedia("(prefers-color-scheme: dark)").matches;
}
const saved = localStorage.getItem("twin-theme");
if (saved) document.documentElement.dataset.theme = saved;

const net = new NetworkView($("network"), $("labels-layer"));
net.setTheme(currentDark());
const brain = new BrainView({
  host: $("brain"), legend: $("brain-legend"), traces: $("brain-traces"), channels: $("brain-channels"),
  variable: $("brain-var"), summary: $("brain-summary"), stimulus: $("brain-stimulus"),
  chset: $("brain-chset"), chlist: $("brain-chlist"), chname: $("brain-chname"),
  chrow: $("brain-chrow"), scalp: $("brain-scalp"),
});
brain.setTheme(currentDark());
const assistant = new AssistantPanel();

// Views: one pane at a time; the hidden one does not render.
let view = "network";
function showView(v) {
  view = v;
  $("network-pane").hidden = v !== "network";
  $("brain-pane").hidden = v !== "brain";
  for (const b of document.querySelectorAll("[data-view]")) b.setAttribute("aria-selected", String(b.dataset.view === v));
  net.paused = v !== "network";
  brain.setVisible(v === "brain");
  if (v === "network") net.resize();
}
for (const b of document.querySelectorAll("[data-view]")) b.addEventListener("click", () => showView(b.dataset.view));
if (new URLSearchParams(location.search).get("view") === "brain") showView("brain");
$("theme").addEventListener("click", () => {
  const next = currentDark() ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  localStorage.setItem("twin-theme", next);
  net.setTheme(next === "dark");
  brain.setTheme(next === "dark");
});
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  net.setTheme(currentDark());
  brain.setTheme(currentDark());
});
$("labels").addEventListener("change", (e) => (net.showLabels = e.target.checked));
$("follow").addEventListener("change", (e) => (net.follow = e.target.checked));
$("fit").addEventListener("click", () => net.fit());
$("globe").addEventListener("change", (e) => net.setGlobe(e.target.checked));
$("links").addEventListener("change", (e) => (net.showLinks = e.target.checked));
$("flashes").addEventListener("change", (e) => (net.flashes = e.target.checked));

// Time slider over the snapshots the view keeps; at the right end: live.
function scrubTo(i) {
  net.scrub(i);
  updateTimeline();
}
$("scrub").addEventListener("input", (e) => scrubTo(Number(e.target.value)));
$("live").addEventListener("click", () => scrubTo(null));
function updateTimeline() {
  const n = net.history.length;
  const s = $("scrub");
  s.max = String(Math.max(0, n - 1));
  const live = net.replay === null;
  if (live) s.value = s.max;
  else s.value = String(Math.max(0, net.history.indexOf(net.replay.entry)));
  $("live").dataset.live = String(live);
  const span = n ? (net.history[n - 1].wall - net.history[0].wall) / 1000 : 0;
  const e = net.replay?.entry;
  const ago = e ? (net.history[n - 1].wall - e.wall) / 1000 : 0;
  $("scrub-time").textContent = live
    ? `live · ${span.toFixed(0)} s held`
    : `${e.sim_ns ? `t = ${(e.sim_ns / 1e9).toFixed(1)} s, ` : ""}${ago.toFixed(1)} s ago`;
}

const feed = new Feed((ok) => {
  $("conn").dataset.ok = String(ok);
  $("conn").textContent = ok ? "live" : "disconnected — retrying";
});
const panel = new FederationPanel();

// Topics: subscribe to those the page can draw, list all.
// Frames are sent only when something changed, so asking above the
// publishers' rate costs nothing and avoids aliasing with their period.
const RATE = { positions: 20, routes: 10, links: 5, tx: 20, brain: 20, assistant: 20 };
let topics = [];

// Layers: position topics grouped by their first two name segments
// (`twin/net/node/position` and `twin/net/route` are one layer).
const group = (name) => name.split("/").slice(0, 2).join("/");
let chosen = new URLSearchParams(location.search).get("layer");
function updateLayers() {
  const groups = [...new Set(topics.filter((t) => t.role === "positions" && t.writers > 0).map((t) => group(t.name)))].sort();
  const sel = $("layer");
  if (sel.options.length !== groups.length || groups.some((g, i) => sel.options[i].value !== g)) {
    sel.replaceChildren(...groups.map((g) => new Option(g, g)));
  }
  sel.hidden = groups.length < 2;
  // Default: the layer with routes, else the first.
  const withRoutes = groups.find((g) => topics.some((t) => t.role === "routes" && group(t.name) === g));
  const want = groups.includes(chosen) ? chosen : withRoutes ?? groups[0];
  if (want && net.layer !== want) net.setLayer(want);
  if (want) sel.value = want;
}
$("layer").addEventListener("change", (e) => {
  chosen = e.target.value;
  net.setLayer(chosen);
});
async function pollTopics() {
  try {
    const r = await fetch("/api/topics");
    topics = await r.json();
    panel.renderTopics(topics);
    for (const t of topics) {
      const g = group(t.name);
      if (t.role === "positions" && t.writers > 0) feed.subscribe(t.name, RATE.positions, (s) => net.onPositions(s, g));
      if (t.role === "routes" && t.writers > 0) feed.subscribe(t.name, RATE.routes, (s) => net.onRoutes(s, g));
      if (t.role === "links" && t.writers > 0) feed.subscribe(t.name, RATE.links, (s) => net.onLinks(s, g));
      if (t.role === "transmissions" && t.writers > 0) feed.subscribe(t.name, RATE.tx, (s) => net.onTransmissions(s, g));
      if (t.role === "brain_regions" && t.writers > 0) feed.subscribe(t.name, RATE.brain, (s) => brain.onRegions(s));
      if (t.role === "brain_monitor" && t.writers > 0) feed.subscribe(t.name, RATE.brain, (s) => brain.onMonitor(s));
      if (t.role === "brain_stimulus" && t.writers > 0) feed.subscribe(t.name, RATE.brain, (s) => brain.onStimulus(s, t.name));
      if (t.role === "channels" && t.writers > 0) feed.subscribe(t.name, RATE.brain, (s) => brain.onChannels(s));
      if (t.role === "assistant") feed.subscribe(t.name, RATE.assistant, (s) => assistant.onAnswers(s));
    }
    assistant.setPresent(topics.some((t) => t.name === "twin/assistant/ask" && t.readers > 0));
    const hasBrain = topics.some((t) => t.role === "brain_regions" && t.writers > 0);
    $("brain-empty").hidden = hasBrain;
    updateLayers();
  } catch {
    /* server gone; the connection badge says so */
  }
}
pollTopics();
setInterval(pollTopics, 2000);

async function pollFederation() {
  try {
    const [f, m] = await Promise.all([fetch("/api/federation"), fetch("/api/members")]);
    panel.render(await f.json(), await m.json());
  } catch {
    /* retried on the next tick */
  }
}
pollFederation();
setInterval(pollFederation, 250);

// Status line of the network view.
setInterval(() => {
  const n = net.nodes.size;
  $("net-empty").hidden = n > 0 || topics.some((t) => t.role === "positions" && t.writers > 0);
  $("net-summary").textContent = n
    ? `${n} node${n === 1 ? "" : "s"}${net.routes.size ? ` · ${net.routes.size} route${net.routes.size === 1 ? "" : "s"}` : ""}` +
      (net.zScale > 1 ? ` · altitude ×${net.zScale}` : "")
    : "waiting for positions…";
  $("fps").textContent = `${net.fps.toFixed(0)} fps`;
  $("globe-label").hidden = !net.geodetic;
  updateTimeline();
  const sel = net.selected !== null ? net.nodes.get(net.selected) : null;
  $("selected").hidden = !sel;
  if (sel) {
    const t = sel.target;
    $("selected").textContent = `node ${net.selected}: e ${t.x.toFixed(0)} m, n ${t.y.toFixed(0)} m, ` +
      `alt ${t.z.toFixed(0)} m, ${sel.speed.toFixed(1)} m/s, hdg ${(90 - (sel.heading * 180) / Math.PI + 360) % 360 | 0}°`;
  }
}, 250);

window.twin = {
  get nodes() { return net.snapshot(); },
  get drawnNodes() { return net.snapshot(net.drawn.nodes); },
  get links() { return net.linkColours ?? []; },
  get flashCount() { return net.flashCount; },
  get historyLength() { return net.history.length; },
  get replaying() { return net.replay !== null; },
  get nodeCount() { return net.nodes.size; },
  get routes() { return Object.fromEntries(net.routes); },
  get routeLines() {
    // Vertices actually drawn (0 for a route of fewer than two known hops).
    return net.routeGroup.children.map((l) => ({ flow: l.userData.flow, points: l.geometry.attributes.position?.count ?? 0 }));
  },
  get layer() { return net.layer; },
  scrubTo,
  setLayer(g) {
    chosen = g;
    updateLayers();
  },
  get fps() { return net.fps; },
  get pixelRatio() { return net.renderer.getPixelRatio(); },
  get framesRendered() { return net.frames; },
  get positionUpdates() { return net.positionUpdates; },
  get feedFrames() { return feed.frames; },
  get feedBusyMs() { return feed.busyMs; },
  frameTimeStats() { return net.frameTimeStats(); },
  resetFrameTimes() { net.frameTimeCount = 0; },
  get feedErrors() { return feed.errors.slice(); },
  get federation() { return panel.last; },
  get view() { return view; },
  showView,
  brain,
  assistant,
  net,
};
