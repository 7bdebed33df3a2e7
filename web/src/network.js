// Network view: nodes at their positions in a local east-north-up frame
// (three.js is y-up: ENU (e, n, u) is drawn at (e, u, -n)), altitude stalks
// to the ground, cones pointing along the velocity, labels, routes as
// polylines through their hops, orbit camera with an optional follow mode.
// A time slider replays snapshots of the recent past held in the page; nodes
// with WGS84 coordinates can be drawn on the globe: the Earth's curvature is
// kept in the tangent frame at the first node (origin at ground level there,
// the Earth's centre at (0, −R, 0)), so camera and controls work unchanged.
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";

const MAX_LABELS = 80; // labels are DOM elements; beyond this only the selected one
const LABEL_HZ = 30; // label DOM updates per second, at most
const FRAME_TIMES = 1024; // frames whose main-thread time is kept
const EARTH_R = 6371008.8; // mean Earth radius [m]
/** History for the time slider: a snapshot every RECORD_MS, HISTORY of them. */
const RECORD_MS = 500;
const HISTORY = 240;
/** How long a node flashes after a transmission [ms]. */
const FLASH_MS = 250;

/** Red (PDR 0) → yellow (0.5) → green (1). */
export function linkColour(pdr, out) {
  const t = Math.min(1, Math.max(0, pdr));
  return out.setHSL((t * 120) / 360, 0.85, 0.45);
}

export class NetworkView {
  constructor(host, labelsLayer) {
    this.host = host;
    this.labelsLayer = labelsLayer;
    // Layers: one per topic group (`twin/net`, `twin/demo`), shown one at a
    // time; each has nodes (id -> { target: ENU Vector3, shown: scene
    // Vector3, heading, speed, alt, name }) and routes (flow -> [hop ids]).
    this.layers = new Map();
    this.layer = null;
    this.zScale = 1; // vertical exaggeration when altitudes are tiny against the extent
    this.selected = null;
    this.follow = false;
    this.showLabels = true;
    this.fitted = false;
    this.scale = 1;
    this.frames = 0;
    this.fps = 0;
    this.fpsWindow = { t: performance.now(), n: 0 };
    // Main-thread time of the last FRAME_TIMES frames [ms] (a ring): the
    // cost of a frame, which unlike fps does not count time spent waiting.
    this.frameTimes = new Float64Array(FRAME_TIMES);
    this.frameTimeCount = 0;
    this.positionUpdates = 0;
    // Time slider: snapshots of the shown layer; `replay` is the one shown
    // instead of the live layer (null: live).
    this.history = [];
    this.replay = null;
    this.recorded = { at: 0, updates: -1 };
    this.simNs = 0;
    this.globe = false;
    this.origin = null; // [lat, lon] of the globe frame
    this.globeGroup = null; // graticule and sphere
    // Links coloured by delivery probability; transmission flashes.
    this.showLinks = true;
    this.flashes = false;
    this.flashCount = 0;
    this.linkLines = null;

    // Antialiasing and high pixel ratios cost most under software GL
    // (headless, no GPU); a query flag `?aa=1` turns antialiasing on.
    const aa = new URLSearchParams(location.search).get("aa") === "1";
    this.renderer = new THREE.WebGLRenderer({ antialias: aa, powerPreference: "high-performance" });
    this.maxRatio = Math.min(window.devicePixelRatio || 1, 1.5);
    this.renderer.setPixelRatio(this.maxRatio);
    host.prepend(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(50, 1, 0.1, 1e7);
    this.camera.position.set(800, 700, 800);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.maxPolarAngle = Math.PI * 0.495;

    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x445566, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.2);
    sun.position.set(1, 2, 1);
    this.scene.add(sun);
    this.grid = null;
    this.capacity = 0;
    this.mesh = null;
    this.stalks = null;
    this.routeGroup = new THREE.Group();
    this.scene.add(this.routeGroup);
    this.labelEls = new Map();
    this.tmp = { c: new THREE.Color() };
    this.ensureCapacity(64);
    this.setTheme(false);

    new ResizeObserver(() => this.resize()).observe(host);
    this.resize();
    this.renderer.domElement.addEventListener("pointerdown", (e) => (this.down = [e.clientX, e.clientY]));
    this.renderer.domElement.addEventListener("pointerup", (e) => this.pick(e));
    this.last = performance.now();
    this.renderer.setAnimationLoop(() => this.frame());
  }

  setTheme(dark) {
    const css = getComputedStyle(document.documentElement);
    this.scene.background = new THREE.Color(css.getPropertyValue("--scene").trim() || (dark ? "#0b0f15" : "#eef1f6"));
    this.dark = dark;
    this.rebuildGrid(this.gridSize || 2000);
  }

  rebuildGrid(size) {
    if (this.grid) this.scene.remove(this.grid);
    this.gridSize = size;
    const major = this.dark ? 0x3a4556 : 0xb4bccb;
    const minor = this.dark ? 0x1f2631 : 0xd8dde6;
    this.grid = new THREE.GridHelper(size, 20, major, minor);
    this.scene.add(this.grid);
  }

  ensureCapacity(n) {
    if (n <= this.capacity) return;
    const cap = Math.max(64, 1 << Math.ceil(Math.log2(n)));
    if (this.mesh) {
      this.scene.remove(this.mesh);
      this.mesh.geometry.dispose();
    }
    // One merged geometry transformed on the CPU: software GL (headless,
    // no GPU) pays per instance for instanced draws, not per vertex.
    const geo = new THREE.BufferGeometry();
    geo.setAttribute("position", new THREE.BufferAttribute(new Float32Array(cap * DART_VERTS * 3), 3).setUsage(THREE.DynamicDrawUsage));
    geo.setAttribute("color", new THREE.BufferAttribute(new Float32Array(cap * DART_VERTS * 3), 3).setUsage(THREE.DynamicDrawUsage));
    geo.setDrawRange(0, 0);
    const mat = new THREE.MeshBasicMaterial({ vertexColors: true, side: THREE.DoubleSide });
    this.mesh = new THREE.Mesh(geo, mat);
    this.mesh.frustumCulled = false;
    this.scene.add(this.mesh);
    // Many nodes: screen-space glyphs (one point each) instead of darts.
    if (this.glyphs) {
      this.scene.remove(this.glyphs);
      this.glyphs.geometry.dispose();
    }
    const gg = new THREE.BufferGeometry();
    gg.setAttribute("position", new THREE.BufferAttribute(new Float32Array(cap * 3), 3).setUsage(THREE.DynamicDrawUsage));
    gg.setAttribute("color", new THREE.BufferAttribute(new Float32Array(cap * 3), 3).setUsage(THREE.DynamicDrawUsage));
    gg.setAttribute("heading", new THREE.BufferAttribute(new Float32Array(cap), 1).setUsage(THREE.DynamicDrawUsage));
    gg.setDrawRange(0, 0);
    this.glyphs = new THREE.Points(gg, glyphMaterial());
    this.glyphs.frustumCulled = false;
    this.scene.add(this.glyphs);
    if (this.stalks) this.scene.remove(this.stalks);
    const sg = new THREE.BufferGeometry();
    sg.setAttribute("position", new THREE.BufferAttribute(new Float32Array(cap * 6), 3).setUsage(THREE.DynamicDrawUsage));
    this.stalks = new THREE.LineSegments(sg, new THREE.LineBasicMaterial({ color: 0x7d8797, transparent: true, opacity: 0.6 }));
    this.stalks.frustumCulled = false;
    this.scene.add(this.stalks);
    this.capacity = cap;
  }

  layerOf(group) {
    let l = this.layers.get(group);
    if (!l) {
      l = { nodes: new Map(), routes: new Map(), links: [], frames: null };
      this.layers.set(group, l);
    }
    return l;
  }

  get nodes() {
    return this.layerOf(this.layer).nodes;
  }

  get routes() {
    return this.layerOf(this.layer).routes;
  }

  /** What is drawn: the replayed snapshot, or the live layer. */
  get drawn() {
    return this.replay ?? this.layerOf(this.layer);
  }

  /** Whether the shown layer has WGS84 positions (the globe can be used). */
  get geodetic() {
    for (const n of this.nodes.values()) return n.ll !== null;
    return false;
  }

  /** Draws WGS84 nodes on the globe (true) or projected flat (false). */
  setGlobe(on) {
    this.globe = on && this.geodetic;
    this.fitted = false;
    this.fit();
  }

  /** Stores a snapshot of the live layer for the time slider. */
  record(now) {
    if (now - this.recorded.at < RECORD_MS || this.recorded.updates === this.positionUpdates) return;
    this.recorded = { at: now, updates: this.positionUpdates };
    const ids = [];
    const data = new Float64Array(this.nodes.size * 7);
    let i = 0;
    for (const [id, n] of this.nodes) {
      ids.push(id);
      data.set([n.target.x, n.target.y, n.target.z, n.heading, n.speed, n.ll?.[0] ?? NaN, n.ll?.[1] ?? NaN], i * 7);
      i += 1;
    }
    const names = [...this.nodes.values()].map((n) => n.name);
    const links = this.layerOf(this.layer).links;
    this.history.push({ wall: now, sim_ns: this.simNs, ids, names, data, routes: [...this.routes], links });
    if (this.history.length > HISTORY) this.history.shift();
  }

  /** Shows history entry `i` (the slider), or live for null / the newest. */
  scrub(i) {
    if (i === null || i >= this.history.length - 1) {
      this.replay = null;
      return;
    }
    const h = this.history[i];
    const nodes = new Map();
    h.ids.forEach((id, k) => {
      const d = h.data.subarray(k * 7, k * 7 + 7);
      nodes.set(id, {
        target: new THREE.Vector3(d[0], d[1], d[2]), shown: null, heading: d[3], speed: d[4], alt: d[2],
        name: h.names[k], ll: Number.isNaN(d[5]) ? null : [d[5], d[6]],
      });
    });
    this.replay = { nodes, routes: new Map(h.routes), links: h.links, entry: h };
  }

  /** Shows the layer of topic group `group`. */
  setLayer(group) {
    if (group === this.layer) return;
    this.layer = group;
    this.history = [];
    this.replay = null;
    this.origin = null;
    this.selected = null;
    for (const el of this.labelEls.values()) el.remove();
    this.labelEls.clear();
    for (const n of this.nodes.values()) n.shown = null;
    this.fitted = false;
    this.fit();
  }

  /** Samples of a positions topic: [key, sim_ns, {id, name?, x_m, y_m, z_m, vx_mps, vy_mps} | null]. */
  onPositions(samples, group) {
    const nodes = this.layerOf(group).nodes;
    for (const [key, sim, v] of samples) {
      if (v === null) {
        nodes.delete(key);
        continue;
      }
      if (group === this.layer && sim !== null && sim > this.simNs) this.simNs = sim;
      const id = v.id ?? key;
      let n = nodes.get(id);
      if (!n) {
        n = { target: new THREE.Vector3(), shown: null, heading: 0, speed: 0, alt: 0, name: v.name ?? null, ll: null };
        nodes.set(id, n);
      }
      n.ll = v.lat_deg != null && v.lon_deg != null ? [v.lat_deg, v.lon_deg] : null;
      n.target.set(v.x_m, v.y_m, v.z_m ?? 0);
      const vx = v.vx_mps ?? 0;
      const vy = v.vy_mps ?? 0;
      n.speed = Math.hypot(vx, vy);
      if (n.speed > 1e-6) n.heading = Math.atan2(vy, vx);
      n.alt = v.z_m ?? 0;
      this.positionUpdates += 1;
    }
    if (group === this.layer && !this.fitted && nodes.size > 0) this.fit();
  }

  /** Samples of a routes topic: [key, sim_ns, {flow, hops: [ids]} | null]. */
  onRoutes(samples, group) {
    const routes = this.layerOf(group).routes;
    for (const [key, , v] of samples) {
      if (v === null) routes.delete(key);
      else routes.set(v.flow ?? key, v.hops || []);
    }
  }

  /** Samples of a links topic: [key, sim_ns, {links: [{a, b, snr_db, pdr}]}]. */
  onLinks(samples, group) {
    for (const [, , v] of samples) this.layerOf(group).links = v?.links ?? [];
  }

  /** Samples of a transmissions topic: [key, sim_ns, {frames: [count per node]}];
   * a node whose count grew flashes. */
  onTransmissions(samples, group) {
    const l = this.layerOf(group);
    const now = performance.now();
    for (const [, , v] of samples) {
      if (!v) continue;
      const prev = l.frames;
      l.frames = v.frames;
      if (!prev) continue;
      v.frames.forEach((f, id) => {
        if (f > (prev[id] ?? 0)) {
          const n = l.nodes.get(id);
          if (n) {
            n.flash = now;
            this.flashCount += 1;
          }
        }
      });
    }
  }

  /** The drawn links with their colours (for tests; computed on demand). */
  get linkColours() {
    if (!this.showLinks) return [];
    const nodes = this.drawn.nodes;
    const c = new THREE.Color();
    return (this.drawn.links ?? [])
      .filter((l) => nodes.get(l.a)?.shown && nodes.get(l.b)?.shown)
      .map((l) => {
        linkColour(l.pdr, c);
        return { a: l.a, b: l.b, pdr: l.pdr, rgb: [c.r, c.g, c.b] };
      });
  }

  /** Link lines, coloured red (PDR 0) → yellow → green (PDR 1). */
  drawLinks() {
    const links = this.showLinks ? this.drawn.links ?? [] : [];
    const nodes = this.drawn.nodes;
    const need = Math.max(64, links.length);
    if (!this.linkLines || this.linkLines.userData.cap < need) {
      if (this.linkLines) {
        this.scene.remove(this.linkLines);
        this.linkLines.geometry.dispose();
      }
      const cap = 1 << Math.ceil(Math.log2(need));
      const g = new THREE.BufferGeometry();
      g.setAttribute("position", new THREE.BufferAttribute(new Float32Array(cap * 6), 3).setUsage(THREE.DynamicDrawUsage));
      g.setAttribute("color", new THREE.BufferAttribute(new Float32Array(cap * 6), 3).setUsage(THREE.DynamicDrawUsage));
      this.linkLines = new THREE.LineSegments(g, new THREE.LineBasicMaterial({ vertexColors: true, transparent: true, opacity: 0.7, depthWrite: false }));
      this.linkLines.frustumCulled = false;
      this.linkLines.userData.cap = cap;
      this.scene.add(this.linkLines);
    }
    const pos = this.linkLines.geometry.attributes.position.array;
    const col = this.linkLines.geometry.attributes.color.array;
    const c = this.tmp.c;
    let k = 0;
    for (const l of links) {
      const a = nodes.get(l.a)?.shown;
      const b = nodes.get(l.b)?.shown;
      if (!a || !b) continue;
      linkColour(l.pdr, c);
      const o = k * 6;
      pos[o] = a.x;
      pos[o + 1] = a.y;
      pos[o + 2] = a.z;
      pos[o + 3] = b.x;
      pos[o + 4] = b.y;
      pos[o + 5] = b.z;
      col[o] = col[o + 3] = c.r;
      col[o + 1] = col[o + 4] = c.g;
      col[o + 2] = col[o + 5] = c.b;
      k += 1;
    }
    this.linkLines.geometry.setDrawRange(0, k * 2);
    this.linkLines.geometry.attributes.position.needsUpdate = true;
    this.linkLines.geometry.attributes.color.needsUpdate = true;
    this.linksDrawn = k;
  }

  /** Fits the camera to the nodes' extent and sizes nodes and grid to it. */
  fit() {
    if (this.nodes.size === 0) return;
    // Exaggerate altitude when it would be invisible against the extent
    // (aircraft at 10 km over an ocean crossing).
    const flat = new THREE.Box2();
    let maxAlt = 0;
    for (const n of this.nodes.values()) {
      flat.expandByPoint(new THREE.Vector2(n.target.x, n.target.y));
      maxAlt = Math.max(maxAlt, n.target.z);
    }
    const span = flat.getSize(new THREE.Vector2());
    const horizontal = Math.max(span.x, span.y, 50);
    this.zScale = maxAlt > 0 && maxAlt < horizontal / 20 ? Math.round(horizontal / 10 / maxAlt) : 1;
    for (const n of this.nodes.values()) n.shown = null;
    const box = new THREE.Box3();
    if (this.globe && !this.origin) {
      // The nodes' mean latitude and longitude (longitudes unwrapped
      // around the first node's).
      let [la, lo, k] = [0, 0, 0];
      let ref = null;
      for (const n of this.nodes.values()) {
        if (!n.ll) continue;
        ref ??= n.ll[1];
        la += n.ll[0];
        lo += ref + ((((n.ll[1] - ref + 540) % 360) + 360) % 360) - 180;
        k += 1;
      }
      this.origin = k ? [la / k, lo / k] : null;
    }
    for (const n of this.nodes.values()) box.expandByPoint(this.toScene(n, new THREE.Vector3()));
    box.expandByPoint(new THREE.Vector3(box.min.x, 0, box.min.z));
    const size = box.getSize(new THREE.Vector3());
    const extent = Math.max(size.x, size.z, size.y, 50);
    this.scale = extent / 45;
    const center = box.getCenter(new THREE.Vector3());
    center.y = 0;
    this.controls.target.copy(center);
    this.camera.position.copy(center).add(new THREE.Vector3(0.55, 0.6, 0.85).multiplyScalar(extent * 1.1));
    this.camera.near = extent / 1000;
    this.camera.far = extent * 100;
    this.camera.updateProjectionMatrix();
    const g = Math.pow(10, Math.ceil(Math.log10(extent * 1.6)));
    this.rebuildGrid(g / 2 >= extent * 1.3 ? g / 2 : g);
    this.grid.position.set(center.x, 0, center.z);
    this.grid.visible = !this.globe;
    this.buildGlobe();
    this.fitted = true;
  }

  resize() {
    const w = this.host.clientWidth || 1;
    const h = this.host.clientHeight || 1;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  pick(e) {
    if (!this.down || Math.hypot(e.clientX - this.down[0], e.clientY - this.down[1]) > 4) return;
    const r = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((e.clientX - r.left) / r.width) * 2 - 1, -((e.clientY - r.top) / r.height) * 2 + 1);
    const ray = new THREE.Raycaster();
    ray.setFromCamera(ndc, this.camera);
    let id = null;
    if (this.glyphs.visible) {
      ray.params.Points.threshold = this.scale;
      this.glyphs.geometry.computeBoundingSphere();
      const hit = ray.intersectObject(this.glyphs)[0];
      if (hit) id = this.order[hit.index];
    } else {
      this.mesh.geometry.computeBoundingSphere();
      const hit = ray.intersectObject(this.mesh)[0];
      if (hit) id = this.order[Math.floor(hit.faceIndex / DART_FACES)];
    }
    this.selected = id;
  }

  frame() {
    if (this.paused) return;
    const now = performance.now();
    this.render(now);
    this.frameTimes[this.frameTimeCount++ % FRAME_TIMES] = performance.now() - now;
  }

  /** Main-thread time per frame over the last (up to FRAME_TIMES) frames [ms]. */
  frameTimeStats() {
    const n = Math.min(this.frameTimeCount, FRAME_TIMES);
    const v = Array.from(this.frameTimes.subarray(0, n)).sort((a, b) => a - b);
    const q = (p) => (n ? v[Math.min(n - 1, Math.floor(p * n))] : NaN);
    return { n, p50: q(0.5), p99: q(0.99), mean: n ? v.reduce((a, b) => a + b, 0) / n : NaN };
  }

  /** Draws one frame (`now`: performance.now() at its start). */
  render(now) {
    const dt = Math.min((now - this.last) / 1000, 0.25);
    this.last = now;
    const k = 1 - Math.exp(-dt * 12); // smooth 10 Hz updates into motion
    if (!this.replay) this.record(now);
    const d = this.drawn;
    const count = d.nodes.size;
    this.ensureCapacity(count);
    const c = this.tmp.c;
    const stalk = this.stalks.geometry.attributes.position.array;
    const pos = this.mesh.geometry.attributes.position.array;
    const col = this.mesh.geometry.attributes.color.array;
    const glyphs = count > GLYPHS_ABOVE;
    const ga = this.glyphs.geometry.attributes;
    // Reused every frame: no per-frame garbage (GC pauses cost frames).
    const order = this.order || (this.order = []);
    order.length = 0;
    let i = 0;
    let maxAlt = 1;
    for (const n of d.nodes.values()) maxAlt = Math.max(maxAlt, n.alt);
    const want = this.tmpV || (this.tmpV = new THREE.Vector3());
    const ground = this.tmpG || (this.tmpG = new THREE.Vector3());
    for (const [id, n] of d.nodes) {
      this.toScene(n, want);
      if (!n.shown) n.shown = want.clone();
      else n.shown.lerp(want, k);
      const p = n.shown;
      const flashing = this.flashes && !this.replay && n.flash !== undefined && now - n.flash < FLASH_MS;
      const sc = this.scale * (id === this.selected ? 1.8 : 1) * (flashing ? 1.6 : 1);
      const cos = Math.cos(n.heading) * sc;
      const sin = Math.sin(n.heading) * sc;
      c.setHSL(0.6 - 0.55 * Math.min(n.alt / maxAlt, 1), 0.75, this.dark ? 0.6 : 0.45);
      if (id === this.selected) c.setHex(0xff8c1a);
      if (flashing) c.setHex(0xfff27a);
      if (glyphs) {
        const gp = ga.position.array;
        const gc = ga.color.array;
        const o3 = i * 3;
        gp[o3] = p.x;
        gp[o3 + 1] = p.y;
        gp[o3 + 2] = p.z;
        gc[o3] = c.r;
        gc[o3 + 1] = c.g;
        gc[o3 + 2] = c.b;
        ga.heading.array[i] = n.heading;
      }
      // Rotate the dart about the vertical by the heading, scale, move.
      let o = i * DART_VERTS * 3;
      for (let v = 0; !glyphs && v < DART_VERTS; v++, o += 3) {
        const x = DART.pos[v * 3];
        const y = DART.pos[v * 3 + 1];
        const z = DART.pos[v * 3 + 2];
        pos[o] = p.x + x * cos + z * sin;
        pos[o + 1] = p.y + y * sc;
        pos[o + 2] = p.z - x * sin + z * cos;
        const shade = DART.shade[v];
        col[o] = c.r * shade;
        col[o + 1] = c.g * shade;
        col[o + 2] = c.b * shade;
      }
      const so = i * 6;
      if (this.globe) this.toScene(n, ground, 0);
      else ground.set(p.x, 0, p.z);
      stalk[so] = ground.x;
      stalk[so + 1] = ground.y;
      stalk[so + 2] = ground.z;
      stalk[so + 3] = p.x;
      stalk[so + 4] = p.y;
      stalk[so + 5] = p.z;
      order.push(id);
      i += 1;
    }
    this.mesh.visible = !glyphs;
    this.glyphs.visible = glyphs;
    if (glyphs) {
      this.glyphs.geometry.setDrawRange(0, i);
      // Upload only the part in use (one buffer range per attribute).
      for (const a of [ga.position, ga.color, ga.heading]) {
        a.clearUpdateRanges();
        a.addUpdateRange(0, i * a.itemSize);
        a.needsUpdate = true;
      }
      const u = this.glyphs.material.uniforms;
      u.uPx.value = this.host.clientHeight * this.renderer.getPixelRatio() / (2 * Math.tan((this.camera.fov * Math.PI) / 360));
      u.uSize.value = this.scale * 1.6;
      u.uStep.value = this.scale;
      u.uAspect.value = this.camera.aspect;
    } else {
      this.mesh.geometry.setDrawRange(0, i * DART_VERTS);
      for (const a of [this.mesh.geometry.attributes.position, this.mesh.geometry.attributes.color]) {
        a.clearUpdateRanges();
        a.addUpdateRange(0, i * DART_VERTS * 3);
        a.needsUpdate = true;
      }
    }
    this.stalks.geometry.setDrawRange(0, i * 2);
    const sa = this.stalks.geometry.attributes.position;
    sa.clearUpdateRanges();
    sa.addUpdateRange(0, i * 6);
    sa.needsUpdate = true;
    this.drawRoutes();
    this.drawLinks();
    if (this.follow && this.selected !== null && d.nodes.get(this.selected)?.shown) {
      const p = d.nodes.get(this.selected).shown;
      const delta = p.clone().sub(this.controls.target);
      this.controls.target.add(delta);
      this.camera.position.add(delta);
    }
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
    // Labels are DOM elements: reposition them at most LABEL_HZ times a second.
    if (now - (this.labelsAt ?? 0) >= 1000 / LABEL_HZ) {
      this.labelsAt = now;
      this.drawLabels();
    }
    this.frames += 1;
    this.fpsWindow.n += 1;
    if (now - this.fpsWindow.t >= 1000) {
      this.fps = (this.fpsWindow.n * 1000) / (now - this.fpsWindow.t);
      this.fpsWindow = { t: now, n: 0 };
      this.adaptResolution();
    }
  }

  /** Dynamic resolution: render fewer pixels while the frame rate is low
   * (software GL, slow machines), and go back up when there is headroom. */
  adaptResolution() {
    const r = this.renderer.getPixelRatio();
    let next = r;
    if (this.fps < 40 && r > 0.5) next = Math.max(0.5, r * 0.85);
    else if (this.fps > 57 && r < this.maxRatio) next = Math.min(this.maxRatio, r * 1.1);
    if (next !== r) {
      this.renderer.setPixelRatio(next);
      this.resize();
    }
  }

  drawRoutes() {
    const g = this.routeGroup;
    const { nodes, routes } = this.drawn;
    while (g.children.length > routes.size) {
      const l = g.children.pop();
      l.geometry.dispose();
    }
    let i = 0;
    const pts = this.routePts || (this.routePts = []);
    for (const [flow, hops] of routes) {
      pts.length = 0;
      for (const h of hops) {
        const n = nodes.get(h);
        if (n?.shown) pts.push(n.shown);
      }
      let line = g.children[i];
      if (!line) {
        // Drawn over everything: routes run along rows of nodes.
        const mat = new THREE.LineBasicMaterial({ depthTest: false, transparent: true });
        line = new THREE.Line(new THREE.BufferGeometry(), mat);
        line.frustumCulled = false;
        line.renderOrder = 10;
        g.add(line);
      }
      const draw = pts.length >= 2 ? pts : NONE;
      const attr = line.geometry.attributes.position;
      if (attr && attr.count === draw.length) {
        for (let k = 0; k < draw.length; k++) attr.setXYZ(k, draw[k].x, draw[k].y, draw[k].z);
        attr.needsUpdate = true;
      } else {
        // Buffers cannot grow: a route with another hop count gets a new one.
        line.geometry.dispose();
        line.geometry = new THREE.BufferGeometry().setFromPoints(draw);
      }
      line.material.color.setHSL(hue(flow), 1, this.dark ? 0.6 : 0.42);
      line.userData.flow = flow;
      line.userData.hops = pts.length;
      i += 1;
    }
  }

  drawLabels() {
    const nodes = this.drawn.nodes;
    const show = this.showLabels && nodes.size <= MAX_LABELS;
    const wanted = this.wantedLabels || (this.wantedLabels = new Set());
    wanted.clear();
    if (show) for (const id of nodes.keys()) wanted.add(id);
    if (this.selected !== null && nodes.has(this.selected)) wanted.add(this.selected);
    for (const [id, el] of this.labelEls) {
      if (!wanted.has(id)) {
        el.remove();
        this.labelEls.delete(id);
      }
    }
    const w = this.host.clientWidth;
    const h = this.host.clientHeight;
    const v = this.tmpL || (this.tmpL = new THREE.Vector3());
    for (const id of wanted) {
      const n = nodes.get(id);
      if (!n?.shown) continue;
      let el = this.labelEls.get(id);
      if (!el) {
        el = document.createElement("div");
        el.className = "label";
        this.labelsLayer.append(el);
        this.labelEls.set(id, el);
      }
      v.copy(n.shown).project(this.camera);
      const visible = v.z < 1 && Math.abs(v.x) <= 1.05 && Math.abs(v.y) <= 1.05;
      el.style.display = visible ? "" : "none";
      if (!visible) continue;
      el.style.left = `${((v.x + 1) / 2) * w}px`;
      el.style.top = `${((1 - v.y) / 2) * h}px`;
      const text = `${n.name ?? id} · ${Math.round(n.alt)} m`;
      if (el.textContent !== text) el.textContent = text;
    }
  }

  /** A node's scene position: flat, ENU (e, n, u) to the y-up scene
   * (e, u·zScale, -n); on the globe, its WGS84 position in the tangent
   * frame at `origin`. `alt` overrides the altitude (0: the ground below). */
  toScene(n, out, alt) {
    const up = (alt ?? n.target.z) * this.zScale;
    if (!(this.globe && n.ll && this.origin)) return out.set(n.target.x, up, -n.target.y);
    const rad = Math.PI / 180;
    const [lat, lon] = n.ll;
    const [lat0, lon0] = this.origin;
    const r = EARTH_R + up;
    // Earth-centred, then rotated into east-north-up at the origin.
    const cl = Math.cos(lat * rad);
    const dl = (lon - lon0) * rad;
    const x = r * cl * Math.cos(dl); // towards the origin's meridian
    const y = r * cl * Math.sin(dl); // east
    const z = r * Math.sin(lat * rad);
    const s0 = Math.sin(lat0 * rad);
    const c0 = Math.cos(lat0 * rad);
    const e = y;
    const nn = -s0 * x + c0 * z;
    const u = c0 * x + s0 * z - EARTH_R;
    return out.set(e, u, -nn);
  }

  /** The globe's graticule (every 10°) around the origin, when shown. */
  buildGlobe() {
    if (this.globeGroup) {
      this.scene.remove(this.globeGroup);
      for (const c of this.globeGroup.children) c.geometry.dispose();
      this.globeGroup = null;
    }
    if (!this.globe || !this.origin) return;
    const g = new THREE.Group();
    const mat = new THREE.LineBasicMaterial({ color: this.dark ? 0x3a4556 : 0x9aa6b8 });
    const v = new THREE.Vector3();
    const probe = { target: { z: 0 }, ll: null };
    const line = (pts) => {
      const arr = pts.map(([la, lo]) => {
        probe.ll = [la, lo];
        return this.toScene(probe, v, 0).clone();
      });
      g.add(new THREE.Line(new THREE.BufferGeometry().setFromPoints(arr), mat));
    };
    for (let lat = -80; lat <= 80; lat += 10) {
      const pts = [];
      for (let lon = -180; lon <= 180; lon += 2) pts.push([lat, lon]);
      line(pts);
    }
    for (let lon = -180; lon < 180; lon += 10) {
      const pts = [];
      for (let lat = -90; lat <= 90; lat += 2) pts.push([lat, lon]);
      line(pts);
    }
    // The Earth as a solid sphere beneath the lines.
    const sphere = new THREE.Mesh(new THREE.SphereGeometry(EARTH_R * 0.999, 96, 64),
      new THREE.MeshBasicMaterial({ color: this.dark ? 0x121a26 : 0xdfe6f0 }));
    sphere.position.set(0, -EARTH_R, 0);
    g.add(sphere);
    g.traverse((o) => (o.frustumCulled = false));
    this.globeGroup = g;
    this.scene.add(g);
  }

  /** Raw (unsmoothed) ENU positions, for tests and the status line. */
  snapshot(nodes = this.nodes) {
    const out = {};
    for (const [id, n] of nodes) out[id] = { x: n.target.x, y: n.target.y, z: n.target.z, heading: n.heading };
    return out;
  }
}

/** A low-poly dart pointing along +x (the heading), with a fixed light
 * baked into per-vertex shades: 6 faces, 18 vertices. */
const DART = (() => {
  const tip = [1, 0, 0];
  const left = [-0.6, 0, 0.55];
  const right = [-0.6, 0, -0.55];
  const top = [-0.45, 0.32, 0];
  const bottom = [-0.45, -0.22, 0];
  const faces = [[tip, top, left], [tip, right, top], [tip, left, bottom], [tip, bottom, right],
    [left, top, right], [left, right, bottom]];
  const light = new THREE.Vector3(0.4, 1, 0.3).normalize();
  const pos = [];
  const shade = [];
  const [a, b, c] = [new THREE.Vector3(), new THREE.Vector3(), new THREE.Vector3()];
  for (const f of faces) {
    a.fromArray(f[0]);
    b.fromArray(f[1]);
    c.fromArray(f[2]);
    const nrm = b.clone().sub(a).cross(c.clone().sub(a)).normalize();
    const k = 0.5 + 0.5 * Math.abs(nrm.dot(light));
    for (const v of f) {
      pos.push(...v);
      shade.push(k);
    }
  }
  return { pos: new Float32Array(pos), shade: new Float32Array(shade) };
})();
const DART_FACES = 6;
/** Above this many nodes, glyphs replace darts (software GL pays per triangle). */
const GLYPHS_ABOVE = 250;
const NONE = [];

/** Points drawn as arrow glyphs turned to the heading as seen on screen. */
function glyphMaterial() {
  return new THREE.ShaderMaterial({
    uniforms: { uPx: { value: 500 }, uSize: { value: 20 }, uStep: { value: 10 }, uAspect: { value: 1 } },
    vertexShader: `
      attribute vec3 color;
      attribute float heading;
      uniform float uPx, uSize, uStep, uAspect;
      varying vec3 vColor;
      varying vec2 vDir;
      void main() {
        vec4 mv = modelViewMatrix * vec4(position, 1.0);
        gl_Position = projectionMatrix * mv;
        vec3 ahead = position + vec3(cos(heading), 0.0, -sin(heading)) * uStep;
        vec4 p2 = projectionMatrix * modelViewMatrix * vec4(ahead, 1.0);
        vec2 d = (p2.xy / p2.w - gl_Position.xy / gl_Position.w) * vec2(uAspect, 1.0);
        vDir = length(d) > 1e-6 ? normalize(d) : vec2(1.0, 0.0);
        vColor = color;
        gl_PointSize = clamp(uSize * uPx / -mv.z, 7.0, 40.0);
      }`,
    fragmentShader: `
      varying vec3 vColor;
      varying vec2 vDir;
      void main() {
        vec2 p = gl_PointCoord * 2.0 - 1.0;
        p.y = -p.y;
        vec2 q = vec2(dot(p, vDir), dot(p, vec2(-vDir.y, vDir.x)));
        // Arrow: tip at x = 0.95, tail corners at x = -0.75, |y| = 0.65, notch at x = -0.35.
        float edge = 0.65 * (0.95 - q.x) / 1.7;
        if (q.x > 0.95 || q.x < -0.75 || abs(q.y) > edge) discard;
        if (q.x < -0.35 && abs(q.y) < (-0.35 - q.x) * 1.6) discard;
        float shade = q.y > 0.0 ? 1.0 : 0.78;
        gl_FragColor = vec4(vColor * shade, 1.0);
      }`,
  });
}
const DART_VERTS = 18;



/** Well-separated hues for consecutive flows (golden-ratio steps). */
function hue(flow) {
  let h = Number.isInteger(flow) ? flow : 0;
  if (!Number.isInteger(flow)) for (const ch of String(flow)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return (0.08 + h * 0.618034) % 1;
}
