// Assistant panel: asks via POST /api/assistant/ask (without waiting) and
// shows the answer as it arrives on the feed (twin/assistant/answer, keyed
// by question id); the assistant republishes the growing answer under the
// same id (done: false) and marks the last sample done: true, when the entry
// is marked finished. Citations name the topic, sim time and excerpt.
const $ = (id) => document.getElementById(id);

export class AssistantPanel {
  constructor() {
    this.entries = new Map(); // id -> { question, el, answer }
    this.present = false;
    this.updates = 0;
    $("ask-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.ask($("ask-text").value);
    });
  }

  /** Whether a member reads questions (from the topic list). */
  setPresent(present) {
    this.present = present;
    $("assistant-none").hidden = present;
    $("ask-text").disabled = !present;
    $("ask-form").querySelector("button").disabled = !present;
    const badge = $("assistant-badge");
    badge.dataset.state = present ? "running" : "na";
    badge.textContent = present ? "connected" : "no assistant";
  }

  async ask(text) {
    const q = text.trim();
    const msg = $("ask-msg");
    if (!q) {
      msg.textContent = "type a question first";
      return;
    }
    msg.textContent = "asking…";
    try {
      const r = await fetch("/api/assistant/ask", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ question: q, wait: false }),
      });
      const j = await r.json().catch(() => ({}));
      if (!r.ok) {
        msg.textContent = `refused: ${j.error?.message ?? r.status}`;
        return;
      }
      msg.textContent = "";
      $("ask-text").value = "";
      this.entry(j.id, q);
    } catch (e) {
      msg.textContent = `failed: ${e}`;
    }
  }

  entry(id, question) {
    let e = this.entries.get(id);
    if (e) return e;
    const el = document.createElement("div");
    el.className = "qa";
    el.dataset.id = id;
    el.innerHTML = `<div class="q"></div><div class="a muted">waiting for the answer…</div><ol class="cites"></ol><div class="meta muted small"></div>`;
    el.querySelector(".q").textContent = question ?? id;
    $("answers").prepend(el);
    e = { question, el, answer: null };
    this.entries.set(id, e);
    return e;
  }

  /** Samples of the answer topic: [id, sim_ns, AssistantAnswer | null]. */
  onAnswers(samples) {
    for (const [key, , a] of samples) {
      if (!a) continue;
      const e = this.entries.get(a.id ?? key);
      if (!e) continue; // someone else's question
      this.updates += 1;
      e.answer = a;
      const body = e.el.querySelector(".a");
      body.textContent = a.text;
      body.classList.toggle("muted", false);
      body.classList.toggle("error", !!a.error);
      const cites = (a.citations ?? []).map((c) => {
        const li = document.createElement("li");
        li.textContent = `${c.topic} @ ${(c.sim_time / 1e9).toFixed(2)} s: ${c.excerpt}`;
        return li;
      });
      e.el.querySelector(".cites").replaceChildren(...cites);
      const done = a.done !== false;
      e.el.dataset.state = a.error ? "error" : done ? "done" : "answering";
      const status = a.error ? "failed" : done ? "finished" : "answering…";
      e.el.querySelector(".meta").textContent = `${a.model} · at t = ${(a.sim_time / 1e9).toFixed(2)} s · ${status}`;
    }
  }

  /** Entries for tests: [{id, question, text, citations}]. */
  snapshot() {
    return [...this.entries].map(([id, e]) => ({
      id,
      question: e.question,
      text: e.answer?.text ?? null,
      citations: e.answer?.citations ?? [],
      done: e.answer ? e.answer.done !== false : false,
      state: e.el.dataset.state ?? "waiting",
      shown: e.el.querySelector(".a").textContent,
    }));
  }
}
