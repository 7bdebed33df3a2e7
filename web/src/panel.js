// Federation panel: state, times, ratio, members with their last report,
// the stalled-grant diagnosis, control buttons and pacing; topic list.
const $ = (id) => document.getElementById(id);

const secs = (ns) => (ns / 1e9).toFixed(ns >= 1e11 ? 0 : 1);
const fmtSecs = (ns) => `${secs(ns)} s`;

export class FederationPanel {
  constructor() {
    this.last = null;
    this.endArmed = false;
    for (const b of document.querySelectorAll("[data-cmd]")) {
      b.addEventListener("click", () => this.command(b.dataset.cmd, b));
    }
    for (const b of document.querySelectorAll("[data-pacing]")) {
      b.addEventListener("click", () => this.pacing(Number(b.dataset.pacing)));
    }
    $("pacing-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.pacing(Number($("pacing").value));
    });
  }

  async post(path, body) {
    const msg = $("cmd-msg");
    try {
      const r = await fetch(path, {
        method: "POST",
        headers: body ? { "content-type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      const j = await r.json().catch(() => ({}));
      msg.textContent = r.ok ? `sent ${j.sent}${j.ratio !== undefined ? ` ${j.ratio}` : ""}` : `refused: ${j.error?.message ?? r.status}`;
    } catch (e) {
      msg.textContent = `failed: ${e}`;
    }
  }

  command(cmd, button) {
    // End is final: ask for a second click.
    if (cmd === "end" && !this.endArmed) {
      this.endArmed = true;
      button.textContent = "■ End? click again";
      setTimeout(() => {
        this.endArmed = false;
        button.textContent = "■ End";
      }, 3000);
      return;
    }
    this.post(`/api/control/${cmd}`);
  }

  pacing(ratio) {
    if (!(Number.isFinite(ratio) && ratio >= 0)) {
      $("cmd-msg").textContent = "pacing must be a number ≥ 0 (0 = as fast as possible)";
      return;
    }
    this.post("/api/control/pacing", { ratio });
  }

  render(f, members) {
    this.last = f;
    const state = f.state ?? "unknown";
    $("fed-name").textContent = f.federation ? `· ${f.federation}` : "· no federation yet";
    const badge = $("state-badge");
    badge.dataset.state = state;
    badge.textContent = state;
    const t = f.end_ns ? `${fmtSecs(f.time_ns)} / ${fmtSecs(f.end_ns)}` : fmtSecs(f.time_ns);
    $("sim-time").textContent = `t = ${t}`;
    $("f-time").textContent = fmtSecs(f.time_ns);
    $("f-time").title = t;
    $("progress-fill").style.width = f.end_ns ? `${Math.min(100, (100 * f.time_ns) / f.end_ns)}%` : "0";
    $("f-ratio").textContent = state === "running" ? `${f.ratio.toFixed(2)}×` : "—";
    $("f-ratio").title = `since start: ${f.speed.toFixed(2)}× real time`;
    $("f-pacing").textContent = f.pacing === 0 ? "max" : `${f.pacing}×`;
    $("f-lag").textContent = f.pacing === 0 ? "—" : `${f.lag_ms.toFixed(1)} ms`;
    $("f-rounds").textContent = String(f.rounds);
    $("f-age").textContent = f.status_age_ms == null ? "—" : `${f.status_age_ms} ms`;
    const d = f.diagnosis;
    const diag = $("diag");
    diag.textContent = d.message;
    diag.dataset.stalled = String(d.stalled);
    diag.title = d.blocking.length ? `grant waits for: ${d.blocking.join(", ")}` : "";
    const ended = state === "ended";
    for (const b of document.querySelectorAll("[data-cmd], [data-pacing], #pacing-form button")) {
      b.disabled = ended || !f.present;
    }
    if (f.present) {
      document.querySelector('[data-cmd="run"]').disabled = state !== "initialise";
      document.querySelector('[data-cmd="freeze"]').disabled = state !== "running";
      document.querySelector('[data-cmd="resume"]').disabled = state !== "frozen";
    }
    this.renderMembers(members, d.stalled);
  }

  renderMembers(members, stalled) {
    const rows = members.map((m) => {
      const tr = document.createElement("tr");
      // Busy members hold the grant all the time; mark them only in a stall.
      tr.dataset.blocking = String(m.blocking && stalled);
      tr.dataset.phase = m.phase;
      const mode = m.mode_ns == null ? m.mode : `${m.mode} ${m.mode_ns / 1e6} ms`;
      const cells = [m.name, m.phase, fmtSecs(m.completed_ns), m.behind_ns >= 1e6 ? fmtSecs(m.behind_ns) : "—",
        `${m.since_report_ms} ms ago`];
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = c;
        tr.append(td);
      }
      tr.title = `${mode}${m.requested_ns != null ? `, request/grant ${fmtSecs(m.requested_ns)}` : ""}` +
        (m.blocking ? " — the next grant waits for this member" : "");
      return tr;
    });
    $("members").tBodies[0].replaceChildren(...rows);
  }

  renderTopics(topics) {
    const rows = topics.map((t) => {
      const tr = document.createElement("tr");
      tr.title = `${t.type_name} v${t.version} · ${t.writers} writer(s), ${t.readers} reader(s), ` +
        `${t.subscribers} dashboard subscriber(s)`;
      const cells = [t.name, `${t.rate_hz.toFixed(1)}/s`, String(t.samples), t.role ?? "—"];
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = c;
        tr.append(td);
      }
      return tr;
    });
    $("topics").tBodies[0].replaceChildren(...rows);
  }
}
