// The lab page: wires the websocket to the graph, the panels, the terminal and the controls.
import { Controls } from "./controls.js";
import { fmt } from "./dom.js";
import { TopologyGraph } from "./graph.js";
import { Panels } from "./panels.js";
import { trackGridTop } from "./layout.js";
import { LabSocket } from "./socket.js";
import { LabTerminal } from "./terminal.js";
import { TracePanel } from "./trace.js";

const root = document.getElementById("lab");
const above = [document.querySelector("header.site"), ...root.querySelectorAll(".toolbar, #progress, #messages, #connection")];
trackGridTop(root.querySelector(".lab-grid"), above);
const graphEl = document.getElementById("graph");
const graph = new TopologyGraph(graphEl, document.getElementById("graph-details"));
const panels = new Panels(document.getElementById("panels"));
const controls = new Controls(root);
const nslab = (window.nslab = { snapshot: null, seq: null });

// Draw the newest snapshot only: frames that arrive while Plotly draws are coalesced.
let drawing = false;
let pending = null;
async function drawLatest() {
  if (drawing) return;
  drawing = true;
  while (pending) {
    const { snapshot, seq } = pending;
    pending = null;
    try {
      await graph.draw(snapshot, seq);
    } catch (err) {
      console.error("graph", err);
    }
  }
  drawing = false;
}

// Over the graph: what to wait for, or why the picture is not live.
function showOverlay(status) {
  const overlay = document.getElementById("graph-empty");
  const texts = {
    preparing: gettext("Preparing the lab…"),
    stopping: gettext("Stopping the lab…"),
    stopped: gettext("The lab is stopped and its containers and rules were discarded: press Start for a fresh lab."),
    failed: gettext("The lab failed: press Reset to start again."),
  };
  const text = texts[status] || (nslab.snapshot ? "" : gettext("Waiting for the lab's kernel state…"));
  overlay.textContent = text;
  overlay.hidden = !text;
}

const handlers = {
  "lab.status": (f) => {
    nslab.status = f.status;
    controls.status(f.status, f.error, f.docker_version);
    showOverlay(f.status);
    if (f.status === "ready") terminal.sendSize();
  },
  "lab.progress": (f) => controls.setProgress(f.step, f.percent),
  "lab.state": (f) => {
    if (nslab.seq !== null && f.seq < nslab.seq && !socket.fresh) return;
    socket.fresh = false;
    nslab.snapshot = f.snapshot;
    nslab.seq = f.seq;
    showOverlay(controls.current);
    panels.update(f.snapshot);
    trace?.sources(f.snapshot);
    pending = { snapshot: f.snapshot, seq: f.seq };
    drawLatest();
  },
  "lab.tty.open": (f) => terminal.notice(f.notice),
  "lab.tty": (f) => terminal.write(f.data),
  "trace.walk": (f) => trace?.show(f),
  "trace.failed": (f) => trace?.failed(f),
  "lab.tty.reset": () => {
    terminal.reset();
    terminal.sendSize(); // a new shell (after `exit`)
  },
  error: (f) => controls.error(fmt(gettext("Refused: %(message)s"), { message: f.message }), "frame-" + f.code),
};

const socket = new LabSocket(root.dataset.wsPath, {
  open() {
    // The server replays the scrollback on every connect: start from a clean screen.
    socket.fresh = true;
    terminal.reset();
    terminal.sendSize();
    controls.connection(true);
  },
  close: (retryIn) => controls.connection(false, retryIn),
  frame: (f) => {
    handlers[f.type]?.(f);
    // Other parts of the page (the exercise panel) listen for frames too.
    window.dispatchEvent(new CustomEvent("nslab:frame", { detail: f }));
  },
});
// Only a ready lab has a shell to resize (the server refuses the frame otherwise): the size is sent
// when the lab becomes ready.
const terminal = new LabTerminal(document.getElementById("terminal"),
  (frame) => (frame.type !== "tty.resize" || controls.current === "ready") && socket.send(frame));
nslab.socket = socket;
const traceEl = document.getElementById("trace");
const trace = traceEl && new TracePanel(traceEl, document.getElementById("trace-toggle"), graph, (f) => socket.send(f));
nslab.terminal = terminal;

document.getElementById("copy").addEventListener("click", () => terminal.copy());
document.getElementById("paste").addEventListener("click", async () => {
  if (!(await terminal.paste())) controls.error(gettext("The browser did not allow reading the clipboard: press Ctrl+Shift+V in the terminal instead."), "paste");
});
document.getElementById("refresh").addEventListener("click", () => socket.send({ type: "lab.refresh" }));
// Packet counters and conntrack change without kernel events: while they are on screen, ask for a
// fresh snapshot every COUNTER_REFRESH_MS (the server allows one a second per lab).
const COUNTER_REFRESH_MS = 2000;
setInterval(() => {
  const shown = document.querySelector("[role=tab][aria-selected=true]")?.dataset.panel;
  const live = nslab.status === "ready" && !document.hidden;
  if (live && (shown === "rules" || shown === "conntrack")) socket.send({ type: "lab.refresh" });
}, COUNTER_REFRESH_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) socket.retryNow(); });

function applyScale() {
  const large = document.documentElement.classList.contains("large");
  graph.setFontScale(large ? 1.35 : 1);
  terminal.setFontSize(large ? 20 : 14);
  if (nslab.snapshot) {
    pending = { snapshot: nslab.snapshot, seq: nslab.seq };
    drawLatest();
  }
}
window.addEventListener("nslab:fontscale", applyScale);
applyScale();
terminal.focus();
