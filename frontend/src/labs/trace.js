// The packet walk panel (labs/trace.html): the student picks a source, a destination and a protocol;
// the lab node sends one real packet and follows it (topology.trace); its steps come back in a
// `trace.walk` frame. Each step explains itself from the walk's data with its message template
// (translated on the server), and the graph lights the links and the namespace of the steps so far.
import { esc, fillSelect, fmt } from "./dom.js";

const PLAY_MS = 450; // between two steps while the walk plays

/** A message template's {name} placeholders filled from the step's params. */
export function explain(messages, message) {
  const template = messages[message.code] || message.code;
  return template.replace(/\{(\w+)\}/g, (m, key) => (key in message.params ? String(message.params[key] ?? "-") : m));
}

/** The graph's links ("ns/ifname" pairs) that steps crossed. */
function segment(step) {
  const l = step.link;
  if (!l) return null;
  if (step.kind === "veth") return [l.from_ns + "/" + l.from_if, l.to_ns + "/" + l.to_if];
  if (step.kind === "bridge" && step.message.code === "bridge.in") return [step.ns + "/" + l.to_if, step.ns + "/" + l.bridge];
  if (step.kind === "bridge") return [step.ns + "/" + l.bridge, step.ns + "/" + l.from_if];
  return null;
}

export class TracePanel {
  constructor(root, toggle, graph, send) {
    this.root = root;
    this.graph = graph;
    this.send = send;
    this.form = root.querySelector(".trace-form");
    this.result = root.querySelector(".trace-result");
    this.list = root.querySelector(".trace-steps");
    this.statusEl = root.querySelector(".trace-status");
    this.walk = null;
    this.index = -1;
    this.timer = null;
    toggle.addEventListener("click", () => {
      const open = root.hidden;
      root.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (!open) this.graph.setTrail(null);
      if (open) this.form.querySelector("select").focus();
    });
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.request(false);
    });
    root.querySelector("[data-arm]").addEventListener("click", () => this.request(true));
    this.form.elements.proto.addEventListener("change", () => {
      this.form.elements.port.disabled = this.form.elements.proto.value === "icmp";
    });
    root.querySelectorAll("[data-step]").forEach((b) => b.addEventListener("click", () => {
      this.stop();
      this.go(this.index + Number(b.dataset.step));
    }));
    root.querySelector("[data-play]").addEventListener("click", () => this.play());
    this.list.addEventListener("click", (ev) => {
      const item = ev.target.closest("li[data-index]");
      if (!item) return;
      this.stop();
      this.go(Number(item.dataset.index));
    });
  }

  /** The namespaces a packet may leave from: the host, the outside world's, the containers'. */
  sources(snapshot) {
    const names = (snapshot.namespaces || []).map((n) => n.name);
    fillSelect(this.form.elements.source, names, "client");
  }

  /** Send a packet and walk it; `armed`: send nothing, walk the next such packet the student makes. */
  request(armed) {
    const f = this.form.elements;
    const proto = f.proto.value;
    const port = proto === "icmp" ? null : Number(f.port.value);
    if (!/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(f.to.value.trim()) || (proto !== "icmp" && !(port >= 1 && port <= 65535))) {
      this.status(gettext("Give an IPv4 address, and a port from 1 to 65535 for tcp and udp."));
      return;
    }
    this.stop();
    this.requestedAt = performance.now();
    this.root.dataset.state = armed ? "armed" : "tracing";
    this.status(armed
      ? fmt(gettext("Armed: make the packet from %(source)s to %(to)s in the terminal within a minute (curl, ping, wget); it is walked as it goes."),
        { source: f.source.value, to: f.to.value.trim() + (port ? ":" + port : "") })
      : gettext("Sending one packet and following it…"));
    this.send({ type: "trace.request", source: f.source.value, to: f.to.value.trim(), port, proto,
      language: document.documentElement.lang || "en", armed });
  }

  status(text) {
    this.statusEl.textContent = text;
  }

  failed(frame) {
    this.root.dataset.state = "failed";
    this.status(fmt(gettext("The trace failed: %(message)s"), { message: frame.message }));
  }

  /** A walk arrived: list its steps, then play it on the graph. */
  show(frame) {
    this.walk = frame.walk;
    this.messages = frame.messages;
    const walk = this.walk;
    const verdict = walk.verdict === "delivered" ? gettext("delivered") : gettext("dropped");
    this.root.querySelector(".trace-verdict").innerHTML =
      "<span class=\"badge trace-" + esc(walk.verdict) + "\">" + esc(verdict) + "</span>";
    this.list.innerHTML = walk.steps.map((s, i) =>
      "<li data-index=\"" + i + "\" class=\"" + esc(s.kind) + (s.direction === "reply" ? " reply" : "") + "\">" +
      "<span class=\"trace-ns\">" + esc(s.ns) + "</span> <span class=\"trace-kind\">" + esc(s.kind) + "</span> " +
      esc(explain(this.messages, s.message)) + "</li>").join("");
    this.result.hidden = false;
    this.status("");
    this.root.dataset.state = "shown";
    // For the page's timer (bench/pages.py): when the walk was on the page.
    this.root.dataset.shownMs = String(Math.round(performance.now() - (this.requestedAt || 0)));
    this.play();
  }

  play() {
    this.stop();
    this.go(0);
    this.timer = setInterval(() => {
      if (!this.walk || this.index >= this.walk.steps.length - 1) this.stop();
      else this.go(this.index + 1);
    }, PLAY_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  go(index) {
    if (!this.walk || !this.walk.steps.length) return;
    const steps = this.walk.steps;
    this.index = Math.max(0, Math.min(steps.length - 1, index));
    const step = steps[this.index];
    this.root.querySelector(".trace-count").textContent =
      fmt(gettext("Step %(n)s of %(total)s"), { n: this.index + 1, total: steps.length });
    this.root.querySelector(".trace-explain").textContent = explain(this.messages, step.message);
    this.list.querySelectorAll("li").forEach((li, i) => li.classList.toggle("current", i === this.index));
    this.list.children[this.index]?.scrollIntoView({ block: "nearest" });
    const segments = steps.slice(0, this.index + 1).map(segment).filter(Boolean);
    this.graph.setTrail({ segments, ns: step.ns, reply: step.direction === "reply", dropped: step.kind === "drop" });
  }
}
