// WebSocket feed client: keeps the wanted subscriptions across reconnects and
// hands data frames to per-topic handlers. Protocol: crates/twin-dashboard/src/feed.rs.

export class Feed {
  constructor(onStatus) {
    this.wanted = new Map(); // topic -> { rate, onData }
    this.onStatus = onStatus;
    this.ws = null;
    this.backoff = 250;
    this.frames = 0;
    // Main-thread time spent decoding and handling data frames [ms].
    this.busyMs = 0;
    this.errors = [];
    this.connect();
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 250;
      this.onStatus(true);
      for (const [topic, w] of this.wanted) this.send({ op: "subscribe", topic, rate_hz: w.rate });
    };
    ws.onmessage = (ev) => {
      const t0 = performance.now();
      this.message(ev.data);
      this.busyMs += performance.now() - t0;
    };
    ws.onclose = () => {
      this.onStatus(false);
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 4000);
    };
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  subscribe(topic, rate, onData) {
    if (this.wanted.has(topic)) return;
    this.wanted.set(topic, { rate, onData });
    this.send({ op: "subscribe", topic, rate_hz: rate });
  }

  unsubscribe(topic) {
    if (!this.wanted.delete(topic)) return;
    this.send({ op: "unsubscribe", topic });
  }

  message(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.type === "data") {
      this.frames += 1;
      const w = this.wanted.get(m.topic);
      if (w) w.onData(m.samples, m);
    } else if (m.type === "error") {
      this.errors.push(m);
      // A refused subscription is retried when the topic list shows it again.
      if (m.topic && m.code !== "not_subscribed") this.wanted.delete(m.topic);
      if (this.errors.length > 20) this.errors.shift();
      console.warn("feed:", m.code, m.message);
    }
  }
}
