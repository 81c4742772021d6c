// An instructor's read-only view of a student's lab: the lab page's graph, panels and terminal
// (labs/*.js) on the watch socket, which relays the lab's frames and takes no input. The toolbar's
// Reset, Stop and Start act on the student's lab; the form above the grid sends the student a message.
import { Controls } from "../labs/controls.js";
import { clockTime, fmt } from "../labs/dom.js";
import { TopologyGraph } from "../labs/graph.js";
import { trackGridTop } from "../labs/layout.js";
import { Panels } from "../labs/panels.js";
import { LabSocket } from "../labs/socket.js";
import { LabTerminal } from "../labs/terminal.js";

const root = document.getElementById("lab");
const form = document.getElementById("teacher-message");
trackGridTop(root.querySelector(".lab-grid"), [document.querySelector("header.site"), ...root.querySelectorAll(".toolbar, #progress, #messages, #connection, #teacher-message")]);
const graph = new TopologyGraph(document.getElementById("graph"), document.getElementById("graph-details"));
const panels = new Panels(document.getElementById("panels"));
const terminal = new LabTerminal(document.getElementById("terminal"), null, { readOnly: true });
const controls = new Controls(root, {
  confirm: {
    reset: () => gettext("Reset the student's lab? Everything they changed is lost and their shell starts anew."),
    stop: () => gettext("Stop the student's lab? Its containers, rules and shell are discarded; passed tasks stay passed."),
  },
});
const view = (window.nslab = { snapshot: null, seq: null, terminal, watching: true });

let drawing = null;
function draw() {
  // The newest snapshot only: frames that come while Plotly draws wait for it.
  drawing ??= (async () => {
    while (view.pending) {
      const { snapshot, seq } = view.pending;
      view.pending = null;
      await graph.draw(snapshot, seq).catch((err) => console.error("graph", err));
    }
    drawing = null;
  })();
}

function overlay(status) {
  const el = document.getElementById("graph-empty");
  const text = {
    preparing: gettext("Preparing the lab…"),
    stopping: gettext("Stopping the lab…"),
    stopped: gettext("The student's lab is stopped."),
    failed: gettext("The student's lab failed."),
  }[status] || (view.snapshot ? "" : gettext("Waiting for the lab's kernel state…"));
  el.textContent = text;
  el.hidden = !text;
}

const handlers = {
  "lab.status": (f) => {
    view.status = f.status;
    controls.status(f.status, f.error, f.docker_version);
    overlay(f.status);
  },
  "lab.progress": (f) => controls.setProgress(f.step, f.percent),
  "lab.state": (f) => {
    if (view.seq !== null && f.seq < view.seq && !socket.fresh) return;
    socket.fresh = false;
    Object.assign(view, { snapshot: f.snapshot, seq: f.seq, pending: { snapshot: f.snapshot, seq: f.seq } });
    overlay(controls.current);
    panels.update(f.snapshot);
    draw();
  },
  "lab.tty.open": (f) => {
    terminal.follow(f.cols, f.rows);
    terminal.notice(f.notice);
  },
  "lab.tty.size": (f) => terminal.follow(f.cols, f.rows),
  "lab.tty": (f) => terminal.write(f.data),
  "lab.tty.reset": () => terminal.reset(),
  "classroom.watchers": (f) => { root.dataset.watchers = f.watchers.join(", "); },
  error: (f) => controls.error(fmt(gettext("Refused: %(message)s"), { message: f.message }), "frame-" + f.code),
};

const socket = new LabSocket(root.dataset.wsPath, {
  open() {
    socket.fresh = true;
    terminal.reset(); // the scrollback comes again on every connect
    controls.connection(true);
  },
  close: (retryIn) => controls.connection(false, retryIn),
  frame: (f) => {
    handlers[f.type]?.(f);
    // The student's panels (the exercise's) listen for frames, as on the student's page.
    window.dispatchEvent(new CustomEvent("nslab:frame", { detail: f }));
  },
});

document.getElementById("copy").addEventListener("click", () => terminal.copy());
document.getElementById("refresh").addEventListener("click", () => socket.send({ type: "lab.refresh" }));
// Counters and conntrack change without kernel events: fresh ones while their tab is shown.
setInterval(() => {
  const shown = document.querySelector("[role=tab][aria-selected=true]")?.dataset.panel;
  if (view.status === "ready" && !document.hidden && (shown === "rules" || shown === "conntrack")) socket.send({ type: "lab.refresh" });
}, 2000);

const status = document.getElementById("teacher-message-status");
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = form.elements.text;
  const body = new URLSearchParams({ text: input.value });
  status.textContent = "";
  try {
    const res = await fetch(form.action, {
      method: "POST",
      headers: { "X-CSRFToken": controls.csrf },
      body,
      credentials: "same-origin",
    });
    if (!res.ok) throw new Error(String(res.status));
    status.textContent = fmt(gettext("Sent at %(time)s."), { time: clockTime(new Date()) });
    input.value = "";
  } catch {
    status.textContent = gettext("The message was not sent. Try again.");
  }
});
