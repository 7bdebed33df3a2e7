// Brain view: region centres in 3D coloured by one variable of a monitor
// (colour scale with legend), traces of the selected regions, and channel
// traces (SEEG/EEG) when a channel topic is published, with a scalp map of
// the EEG electrodes. Regions under a stimulus (twin/brain/stimulus, the last
// one, also if it was sent before the page opened; and the brain's own
// scheduled stimuli, twin/brain/stimulus/scheduled) carry a ring, and the
// scheduled stimuli's onsets are marked on the time axes.
// Coordinates: centres in mm, x right, y anterior, z superior; drawn y-up
// as (x, z, -y).
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";

/** History kept for traces and colour ranges [samples per monitor]. */
const HISTORY = 600;
/** Seconds of simulation time shown in the trace plots. */
const WINDOW_S = 4;
/** Channels drawn at once (the 10–20 montage has 19). */
const MAX_CHANNELS = 24;

/** A perceptual-ish blue → white → red diverging scale on [0, 1]. */
export function colourScale(u, out) {
  const t = Math.min(1, Math.max(0, u));
  const a = [0.23, 0.3, 0.75];
  const m = [0.87, 0.87, 0.87];
  const b = [0.71, 0.02, 0.15];
  const [p, q, k] = t < 0.5 ? [a, m, t * 2] : [m, b, (t - 0.5) * 2];
  out.setRGB(p[0] + (q[0] - p[0]) * k, p[1] + (q[1] - p[1]) * k, p[2] + (q[2] - p[2]) * k);
  return out;
}

/** Colour of stimulus-onset markers (CSS), the rings' amber. */
const MARK = "#ffb000";

/** Distinct trace colours (CSS). */
const TRACE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

export class BrainView {
  constructor(els) {
    this.els = els; // { host, legend, traces, channels, variable, summary }
    this.labels = [];
    this.centres = [];
    this.monitors = new Map(); // monitor -> { voi, regions, hist: [{t_ns, values}] }
    this.monitor = null;
    this.variable = 0;
    this.selected = [];
    // Channel sets by monitor (`seeg`, `eeg`):
    // { labels, variable, positions, hist: [{t_ns, values}], off: Set of hidden channels }.
    this.channelSets = new Map();
    this.channelSet = null; // the set shown
    // Per stimulus topic: { variable, regions (non-zero amplitude), targets, onsets [sim ns] }.
    this.stimuli = new Map();
    this.rings = null;
    this.visible = false;
    this.updates = 0;
    this.colours = [];
    this.range = [0, 1];
    this.renderer = null;
    els.variable.addEventListener("change", (e) => {
      this.variable = Number(e.target.value);
      this.paint();
    });
    els.chset.addEventListener("change", (e) => this.showChannels(e.target.value));
  }

  /** The channel set shown, or null. */
  get channels() {
    return this.channelSets.get(this.channelSet) ?? null;
  }

  /** Creates the 3D scene on first need (no WebGL context without a brain). */
  init() {
    if (this.renderer) return;
    const host = this.els.host;
    this.renderer = new THREE.WebGLRenderer({ antialias: false });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 1.5));
    host.prepend(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(40, 1, 1, 5000);
    this.camera.position.set(180, 140, 220);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x444466, 2.0));
    const sun = new THREE.DirectionalLight(0xffffff, 1.4);
    sun.position.set(1, 2, 1.5);
    this.scene.add(sun);
    this.mesh = null;
    new ResizeObserver(() => this.resize()).observe(host);
    this.resize();
    const dom = this.renderer.domElement;
    dom.addEventListener("pointerdown", (e) => (this.down = [e.clientX, e.clientY]));
    dom.addEventListener("pointerup", (e) => this.pick(e));
    this.renderer.setAnimationLoop(() => this.frame());
  }

  setTheme(dark) {
    this.dark = dark;
    const css = getComputedStyle(document.documentElement);
    if (this.scene) this.scene.background = new THREE.Color(css.getPropertyValue("--scene").trim() || "#eef1f6");
    this.drawTraces();
  }

  setVisible(v) {
    this.visible = v;
    if (v) {
      this.init();
      this.setTheme(this.dark);
      this.resize();
    }
  }

  /** Samples of a regions topic: [key, sim_ns, {labels, centres_mm}]. */
  onRegions(samples) {
    for (const [, , v] of samples) {
      if (!v) continue;
      this.labels = v.labels;
      this.centres = v.centres_mm;
      this.build();
    }
  }

  build() {
    this.init();
    if (this.mesh) {
      this.scene.remove(this.mesh);
      this.mesh.geometry.dispose();
    }
    const n = this.centres.length;
    const geo = new THREE.SphereGeometry(3.2, 12, 8);
    const mat = new THREE.MeshLambertMaterial({ color: 0xffffff });
    this.mesh = new THREE.InstancedMesh(geo, mat, Math.max(n, 1));
    const m = new THREE.Matrix4();
    const box = new THREE.Box3();
    const p = new THREE.Vector3();
    for (let i = 0; i < n; i++) {
      const [x, y, z] = this.centres[i];
      p.set(x, z, -y);
      box.expandByPoint(p);
      m.makeTranslation(p.x, p.y, p.z);
      this.mesh.setMatrixAt(i, m);
      this.mesh.setColorAt(i, new THREE.Color(0x999999));
    }
    this.mesh.count = n;
    this.scene.add(this.mesh);
    const c = box.getCenter(new THREE.Vector3());
    const r = Math.max(box.getSize(new THREE.Vector3()).length() / 2, 20);
    this.controls.target.copy(c);
    this.camera.position.copy(c).add(new THREE.Vector3(0.9, 0.6, 1.1).normalize().multiplyScalar(r * 3));
    this.camera.updateProjectionMatrix();
    this.selected = this.selected.filter((i) => i < n);
    this.placeRings();
    this.paint();
  }

  /** Samples of stimulus topic `topic`: [key, sim_ns, {variable,
   * amplitude: [per region], targets?: [region], onsets?: [sim ns]}]. */
  onStimulus(samples, topic = "") {
    for (const [, , v] of samples) {
      if (!v) {
        this.stimuli.delete(topic);
        continue;
      }
      const regions = [];
      (v.amplitude ?? []).forEach((a, i) => a !== 0 && regions.push(i));
      this.stimuli.set(topic, { variable: v.variable, regions, targets: v.targets ?? [], onsets: v.onsets ?? [] });
    }
    this.placeRings();
    this.drawTraces();
    this.drawChannels();
  }

  /** Regions under a stimulus now or targeted by a scheduled one. */
  get stimulus() {
    const on = new Set();
    for (const s of this.stimuli.values()) for (const i of [...s.regions, ...s.targets]) on.add(i);
    return { regions: [...on].sort((a, b) => a - b) };
  }

  /** Onset times of the scheduled stimuli [sim ns], oldest first. */
  get onsets() {
    return [...this.stimuli.values()].flatMap((s) => s.onsets).sort((a, b) => a - b);
  }

  /** Rings around the stimulated regions, facing the camera each frame. */
  placeRings() {
    if (!this.scene) return;
    const n = this.centres.length;
    if (!this.rings || this.rings.userData.n !== n) {
      if (this.rings) {
        this.scene.remove(this.rings);
        this.rings.geometry.dispose();
      }
      const geo = new THREE.TorusGeometry(5.5, 0.6, 6, 24);
      this.rings = new THREE.InstancedMesh(geo, new THREE.MeshBasicMaterial({ color: 0xffb000 }), Math.max(n, 1));
      this.rings.userData.n = n;
      this.scene.add(this.rings);
    }
    const on = this.stimulus.regions.filter((i) => i < n);
    const m = new THREE.Matrix4();
    const q = this.camera.quaternion;
    on.forEach((i, k) => {
      const [x, y, z] = this.centres[i];
      m.compose(new THREE.Vector3(x, z, -y), q, new THREE.Vector3(1, 1, 1));
      this.rings.setMatrixAt(k, m);
    });
    this.rings.count = on.length;
    this.rings.instanceMatrix.needsUpdate = true;
    const name = (i) => this.labels[i] ?? i;
    this.els.stimulus.textContent = [...this.stimuli.entries()]
      .filter(([, s]) => s.regions.length || s.targets.length)
      .map(([topic, s]) => {
        const kind = topic.endsWith("/scheduled") ? "scheduled stimulus" : "stimulus";
        const at = (s.targets.length ? s.targets : s.regions).filter((i) => i < n).map(name).join(", ");
        const state = s.targets.length ? ` (${s.regions.length ? "on" : "off"}, ${s.onsets.length} recent onsets)` : "";
        return `${kind} on ${s.variable}: ${at}${state}`;
      })
      .join(" · ");
  }

  /** Samples of a monitor topic: [key, sim_ns, {monitor, t, voi, regions, values}]. */
  onMonitor(samples) {
    for (const [key, , v] of samples) {
      if (!v) continue;
      const name = v.monitor ?? String(key);
      let m = this.monitors.get(name);
      if (!m) {
        m = { voi: v.voi, regions: v.regions, hist: [] };
        this.monitors.set(name, m);
        if (this.monitor === null) this.setMonitor(name);
      }
      m.voi = v.voi;
      m.regions = v.regions;
      const last = m.hist[m.hist.length - 1];
      if (last && v.t < last.t_ns) m.hist.length = 0; // a new run
      m.hist.push({ t_ns: v.t, values: Float32Array.from(v.values) });
      if (m.hist.length > HISTORY) m.hist.shift();
      this.updates += 1;
    }
    this.paint();
    this.drawTraces();
  }

  /** Samples of a channel topic: [key, sim_ns, {monitor, t, variable, labels, positions_mm, values}]. */
  onChannels(samples) {
    for (const [key, , v] of samples) {
      if (!v) continue;
      const name = v.monitor ?? String(key);
      let set = this.channelSets.get(name);
      if (!set) {
        set = { labels: v.labels, hist: [], off: new Set() };
        this.channelSets.set(name, set);
        const sel = this.els.chset;
        const names = [...this.channelSets.keys()].sort().reverse(); // seeg before eeg
        sel.replaceChildren(...names.map((n) => new Option(`${n.toUpperCase()} (${this.channelSets.get(n).labels.length})`, n)));
        sel.hidden = names.length < 2;
        if (this.channelSet === null) this.channelSet = name;
        sel.value = this.channelSet;
        if (name === this.channelSet) this.listChannels();
      }
      if (set.labels.join() !== v.labels.join()) {
        set.labels = v.labels;
        set.off.clear();
        if (name === this.channelSet) this.listChannels();
      }
      set.variable = v.variable;
      set.positions = v.positions_mm;
      const h = set.hist;
      if (h.length && v.t < h[h.length - 1].t_ns) h.length = 0;
      h.push({ t_ns: v.t, values: Float32Array.from(v.values) });
      if (h.length > HISTORY) h.shift();
    }
    this.drawChannels();
  }

  /**
   * Scalp map of the EEG set's newest sample beside the channel traces:
   * values at the electrodes (scalpLayout), interpolated over the head by
   * inverse-distance weighting (Shepard, power 2), coloured on a scale
   * symmetric about 0 spanning the largest |value| in the history.
   */
  drawScalp() {
    const cv = this.els.scalp;
    const set = this.channelSets.get("eeg");
    const last = set?.hist[set.hist.length - 1];
    const ok = this.channelSet === "eeg" && last && set.positions?.length === set.labels.length && set.labels.length >= 3;
    cv.hidden = !ok;
    if (!ok) {
      this.scalp = null;
      return;
    }
    if (set.layoutOf !== set.positions) {
      set.layout = scalpLayout(set.positions);
      set.layoutOf = set.positions;
    }
    const xy = set.layout;
    let span = 0;
    for (const s of set.hist) for (const v of s.values) span = Math.max(span, Math.abs(v));
    span = span || 1;
    const vals = last.values;
    // Interpolate on a grid, then scale the grid up smoothly onto the disc.
    const G = SCALP_GRID;
    if (!this.scalpGrid) {
      this.scalpGrid = document.createElement("canvas");
      this.scalpGrid.width = G;
      this.scalpGrid.height = G;
    }
    const gg = this.scalpGrid.getContext("2d");
    const img = gg.createImageData(G, G);
    const c = new THREE.Color();
    for (let j = 0; j < G; j++) {
      for (let i = 0; i < G; i++) {
        const u = ((i + 0.5) / G) * 2 - 1;
        const v = 1 - ((j + 0.5) / G) * 2;
        let num = 0;
        let den = 0;
        let exact = null;
        for (let k = 0; k < xy.length; k++) {
          const d2 = (u - xy[k][0]) ** 2 + (v - xy[k][1]) ** 2;
          if (d2 < 1e-9) {
            exact = vals[k];
            break;
          }
          num += vals[k] / d2;
          den += 1 / d2;
        }
        colourScale(0.5 + (exact ?? num / den) / (2 * span), c);
        const o = (j * G + i) * 4;
        img.data[o] = c.r * 255;
        img.data[o + 1] = c.g * 255;
        img.data[o + 2] = c.b * 255;
        img.data[o + 3] = 255;
      }
    }
    gg.putImageData(img, 0, 0);
    const dpr = window.devicePixelRatio || 1;
    const w = cv.clientWidth || 160;
    const h = cv.clientHeight || 160;
    if (cv.width !== Math.round(w * dpr)) cv.width = Math.round(w * dpr);
    if (cv.height !== Math.round(h * dpr)) cv.height = Math.round(h * dpr);
    const g = cv.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const R = Math.min(w, h) / 2 - 12;
    const cx = w / 2;
    const cy = h / 2 + 4;
    const fg = this.dark ? "#9aa4b2" : "#5b6475";
    g.save();
    g.beginPath();
    g.arc(cx, cy, R, 0, 2 * Math.PI);
    g.clip();
    g.imageSmoothingEnabled = true;
    g.drawImage(this.scalpGrid, cx - R, cy - R, 2 * R, 2 * R);
    g.restore();
    // Head, nose and ears.
    g.strokeStyle = fg;
    g.lineWidth = 1.5;
    g.beginPath();
    g.arc(cx, cy, R, 0, 2 * Math.PI);
    g.moveTo(cx - 0.1 * R, cy - 0.995 * R);
    g.lineTo(cx, cy - 1.12 * R);
    g.lineTo(cx + 0.1 * R, cy - 0.995 * R);
    g.moveTo(cx - R, cy - 0.12 * R);
    g.quadraticCurveTo(cx - 1.1 * R, cy, cx - R, cy + 0.12 * R);
    g.moveTo(cx + R, cy - 0.12 * R);
    g.quadraticCurveTo(cx + 1.1 * R, cy, cx + R, cy + 0.12 * R);
    g.stroke();
    // Electrodes: hollow rings (the map shows through) and labels.
    g.font = "9px ui-monospace, Menlo, monospace";
    const at = xy.map(([u, v]) => [cx + u * R, cy - v * R]);
    at.forEach(([px, py], k) => {
      g.strokeStyle = "#222";
      g.lineWidth = 1;
      g.beginPath();
      g.arc(px, py, 3, 0, 2 * Math.PI);
      g.stroke();
      g.fillStyle = "#222";
      g.fillText(set.labels[k], px + 4, py - 3);
    });
    g.fillStyle = fg;
    g.fillText(`±${span.toPrecision(2)}`, 2, 10);
    this.scalp = { t_ns: last.t_ns, labels: set.labels.slice(), values: Array.from(vals), span, at };
  }

  /** Shows channel set `name` (`seeg`, `eeg`). */
  showChannels(name) {
    if (!this.channelSets.has(name)) return;
    this.channelSet = name;
    this.els.chset.value = name;
    this.listChannels();
    this.drawChannels();
  }

  /** The channel list: one toggle per channel of the shown set. */
  listChannels() {
    const set = this.channels;
    const list = this.els.chlist;
    if (!set) return list.replaceChildren();
    list.replaceChildren(...set.labels.map((label, k) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.channel = String(k);
      b.setAttribute("aria-pressed", String(!set.off.has(k)));
      b.addEventListener("click", () => {
        if (set.off.has(k)) set.off.delete(k);
        else set.off.add(k);
        b.setAttribute("aria-pressed", String(!set.off.has(k)));
        this.drawChannels();
      });
      return b;
    }));
  }

  setMonitor(name) {
    this.monitor = name;
    const m = this.monitors.get(name);
    const sel = this.els.variable;
    sel.replaceChildren(...m.voi.map((v, i) => new Option(`${name}: ${v}`, String(i))));
    this.variable = 0;
    sel.value = "0";
  }

  /** The current row of the chosen variable, its history and range. */
  current() {
    const m = this.monitors.get(this.monitor);
    if (!m || m.hist.length === 0) return null;
    const n = m.regions;
    const row = this.variable;
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of m.hist) {
      for (let i = row * n; i < (row + 1) * n; i++) {
        const x = s.values[i];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    if (!(hi > lo)) hi = lo + 1;
    const last = m.hist[m.hist.length - 1];
    return { m, n, row, lo, hi, last };
  }

  /** Colours the regions by the newest sample, scaled to the history's range. */
  paint() {
    const cur = this.current();
    if (!cur || !this.mesh) return;
    const { n, row, lo, hi, last } = cur;
    const c = new THREE.Color();
    this.colours = [];
    for (let i = 0; i < Math.min(n, this.mesh.count); i++) {
      const u = (last.values[row * n + i] - lo) / (hi - lo);
      colourScale(u, c);
      if (this.selected.includes(i)) c.lerp(new THREE.Color(0xffb000), 0.15);
      this.mesh.setColorAt(i, c);
      this.colours.push(c.getHexString());
    }
    this.mesh.instanceColor.needsUpdate = true;
    this.range = [lo, hi];
    const voi = cur.m.voi[row] ?? "?";
    this.els.legend.querySelector(".lo").textContent = lo.toPrecision(3);
    this.els.legend.querySelector(".hi").textContent = hi.toPrecision(3);
    this.els.legend.querySelector(".name").textContent = voi;
    this.els.summary.textContent = `${this.centres.length} regions · ${this.monitor} · t = ${(last.t_ns / 1e9).toFixed(2)} s`;
  }

  resize() {
    if (!this.renderer) return;
    const host = this.els.host;
    const w = host.clientWidth || 1;
    const h = host.clientHeight || 1;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  /** Screen position (page pixels) of region `i`, for tests. */
  screenPos(i) {
    const [x, y, z] = this.centres[i];
    const v = new THREE.Vector3(x, z, -y).project(this.camera);
    const r = this.renderer.domElement.getBoundingClientRect();
    return { x: r.left + ((v.x + 1) / 2) * r.width, y: r.top + ((1 - v.y) / 2) * r.height };
  }

  pick(e) {
    if (!this.down || Math.hypot(e.clientX - this.down[0], e.clientY - this.down[1]) > 4 || !this.mesh) return;
    const r = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((e.clientX - r.left) / r.width) * 2 - 1, -((e.clientY - r.top) / r.height) * 2 + 1);
    const ray = new THREE.Raycaster();
    ray.setFromCamera(ndc, this.camera);
    const hit = ray.intersectObject(this.mesh)[0];
    if (!hit) return;
    const i = hit.instanceId;
    const at = this.selected.indexOf(i);
    if (at >= 0) this.selected.splice(at, 1);
    else {
      this.selected.push(i);
      if (this.selected.length > TRACE.length) this.selected.shift();
    }
    this.paint();
    this.drawTraces();
  }

  frame() {
    if (!this.visible) return;
    this.controls.update();
    if (this.rings && this.rings.count) this.placeRings();
    this.renderer.render(this.scene, this.camera);
  }

  /** Traces of the selected regions over the last WINDOW_S seconds. */
  drawTraces() {
    const cv = this.els.traces;
    const cur = this.current();
    const series = cur
      ? this.selected.map((i, k) => ({
          label: this.labels[i] ?? `region ${i}`,
          colour: TRACE[k % TRACE.length],
          pick: (s) => s.values[cur.row * cur.n + i],
        }))
      : [];
    this.traced = series.map((s) => s.label);
    this.marksDrawn = plot(cv, cur ? cur.m.hist : [], series, this.dark, cur ? null : "no monitor data yet",
      series.length ? null : "click a region to show its trace", cur && [cur.lo, cur.hi], false, this.onsets);
  }

  drawChannels() {
    const ch = this.channels;
    const cv = this.els.channels;
    this.els.chrow.hidden = !ch;
    this.els.chlist.hidden = !ch;
    document.getElementById("channels-head").hidden = !ch;
    if (!ch) return;
    this.els.chname.textContent = `${this.channelSet.toUpperCase()} channels`;
    // Stacked: each shown channel in its own band, scaled to its own range.
    const shown = ch.labels.map((_, k) => k).filter((k) => !ch.off.has(k)).slice(0, MAX_CHANNELS);
    const n = shown.length;
    const series = [];
    shown.forEach((k, j) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of ch.hist) {
        lo = Math.min(lo, s.values[k]);
        hi = Math.max(hi, s.values[k]);
      }
      const span = hi > lo ? hi - lo : 1;
      series.push({
        label: ch.labels[k],
        colour: TRACE[k % TRACE.length],
        pick: (s) => n - 1 - j + 0.1 + (0.8 * (s.values[k] - lo)) / span,
      });
    });
    this.channelsDrawn = series.map((s) => s.label);
    this.channelMarksDrawn = plot(cv, ch.hist, series, this.dark, null, n ? null : "every channel is hidden",
      [0, Math.max(n, 1)], true, this.onsets);
    this.drawScalp();
  }
}

/** Grid cells per side of the scalp map's interpolation. */
const SCALP_GRID = 72;

/**
 * Scalp-map coordinates of electrodes at `positions` [mm]: the electrodes
 * lie on an ellipsoid whose equator holds the lowest ring (the 10–20 system's
 * Fp–T–O ring); each is mapped to polar angle θ from the vertex and azimuth
 * φ, then to the disc point at radius θ / 90° · 0.8 (the ring at 0.8 of the
 * head radius), nose (anterior, +y) up. Returns [[u, v]] in the unit disc,
 * u right, v up.
 */
export function scalpLayout(positions) {
  const lo = [0, 1, 2].map((k) => Math.min(...positions.map((p) => p[k])));
  const hi = [0, 1, 2].map((k) => Math.max(...positions.map((p) => p[k])));
  const c = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]];
  const a = [(hi[0] - lo[0]) / 2 || 1, (hi[1] - lo[1]) / 2 || 1, hi[2] - lo[2] || 1];
  return positions.map((p) => {
    const u = [0, 1, 2].map((k) => (p[k] - c[k]) / a[k]);
    const theta = Math.acos(Math.max(-1, Math.min(1, u[2] / (Math.hypot(...u) || 1))));
    const phi = Math.atan2(u[1], u[0]);
    const r = (theta / (Math.PI / 2)) * 0.8;
    return [r * Math.cos(phi), r * Math.sin(phi)];
  });
}

/** Line plot of `series` over `hist` ({t_ns, …}) on canvas `cv`, with a
 * dashed vertical marker at each time in `marks` [ns] inside the window.
 * Returns the number of markers drawn. */
function plot(cv, hist, series, dark, empty, hint, range, stacked = false, marks = []) {
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth || 300;
  const h = cv.clientHeight || 120;
  if (cv.width !== Math.round(w * dpr)) cv.width = Math.round(w * dpr);
  if (cv.height !== Math.round(h * dpr)) cv.height = Math.round(h * dpr);
  const g = cv.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const fg = dark ? "#9aa4b2" : "#5b6475";
  g.font = "11px ui-monospace, Menlo, monospace";
  g.fillStyle = fg;
  if (empty || hint || hist.length < 2) {
    g.fillText(empty ?? hint ?? "waiting for data…", 8, h / 2);
    return 0;
  }
  const t1 = hist[hist.length - 1].t_ns;
  const t0 = t1 - WINDOW_S * 1e9;
  const [lo, hi] = range;
  const left = stacked ? 64 : 40;
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (w - left - 6);
  const y = (v) => h - 14 - ((v - lo) / (hi - lo || 1)) * (h - 24);
  g.strokeStyle = dark ? "#30363d" : "#d9dde5";
  g.beginPath();
  g.moveTo(left, 4);
  g.lineTo(left, h - 14);
  g.lineTo(w - 6, h - 14);
  g.stroke();
  g.fillText(`${(t0 / 1e9).toFixed(1)} s`, left, h - 2);
  g.fillText(`${(t1 / 1e9).toFixed(1)} s`, w - 50, h - 2);
  if (!stacked) {
    g.fillText(hi.toPrecision(2), 2, 12);
    g.fillText(lo.toPrecision(2), 2, h - 16);
  }
  // Stimulus onsets.
  let drawn = 0;
  g.save();
  g.strokeStyle = MARK;
  g.setLineDash([3, 3]);
  g.lineWidth = 1;
  g.beginPath();
  for (const t of marks) {
    if (t < t0 || t > t1) continue;
    const px = Math.round(x(t)) + 0.5;
    g.moveTo(px, 4);
    g.lineTo(px, h - 14);
    drawn += 1;
  }
  g.stroke();
  g.restore();
  series.forEach((s, k) => {
    g.strokeStyle = s.colour;
    g.lineWidth = 1.3;
    g.beginPath();
    let started = false;
    for (const p of hist) {
      if (p.t_ns < t0) continue;
      const px = x(p.t_ns);
      const py = y(s.pick(p));
      if (started) g.lineTo(px, py);
      else g.moveTo(px, py);
      started = true;
    }
    g.stroke();
    g.fillStyle = s.colour;
    if (stacked) g.fillText(s.label.slice(0, 9), 2, y(series.length - 1 - k + 0.5) + 4);
    else g.fillText(s.label, left + 6 + (k % 4) * 90, 12 + Math.floor(k / 4) * 12);
  });
  return drawn;
}
