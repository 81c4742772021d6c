// Lab controls (reset, stop, start), the status badge, the progress bar and the message area.
import { esc, fmt } from "./dom.js";

export function statusText(status) {
  return {
    preparing: gettext("Preparing"),
    ready: gettext("Ready"),
    stopping: gettext("Stopping"),
    stopped: gettext("Stopped"),
    failed: gettext("Failed"),
  }[status] || status;
}

function stepText(step) {
  return {
    queued: gettext("Waiting for a lab node…"),
    creating: gettext("Creating the sandbox…"),
    starting: gettext("Starting Docker…"),
    setup: gettext("Preparing the exercise…"),
    ready: gettext("Ready"),
  }[step] || step;
}

// Reset and Stop discard the sandbox (Stop frees the server's memory and processes for other students:
// its namespaces cannot be kept), so both ask first and say so.
const CONFIRM = {
  reset: () => gettext("Reset the lab? Everything you changed is lost and the shell starts anew."),
  stop: () => gettext("Stop the lab? Stopping frees the server: your containers, interfaces, rules and shell are discarded. Start then prepares a fresh lab; tasks you passed stay passed."),
};

export class Controls {
  /** confirm: {action: () => text} asked before an action (default: the student's own lab's). */
  constructor(root, { confirm = CONFIRM } = {}) {
    this.root = root;
    this.confirmTexts = confirm;
    this.csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
    this.badge = document.getElementById("lab-status");
    this.progress = document.getElementById("progress");
    this.progressBar = this.progress.querySelector("[role=progressbar]");
    this.progressText = this.progress.querySelector(".progress-text");
    this.messages = document.getElementById("messages");
    this.version = document.getElementById("docker-version");
    this.versionShown = document.getElementById("lab-version");
    this.conn = document.getElementById("connection");
    this.buttons = Object.fromEntries([...root.querySelectorAll("button[data-action]")].map((b) => [b.dataset.action, b]));
    for (const [action, button] of Object.entries(this.buttons)) {
      button.addEventListener("click", () => this.post(action));
    }
    this.status(root.dataset.status, "");
  }

  async post(action) {
    const ask = this.confirmTexts[action];
    if (ask && !window.confirm(ask())) return;
    const body = new URLSearchParams();
    if (action === "reset") body.set("docker_version", this.version.value);
    Object.values(this.buttons).forEach((b) => { b.disabled = true; });
    const frames = this.statusFrames;
    try {
      const res = await fetch(this.root.dataset[action + "Url"], {
        method: "POST",
        headers: { "X-CSRFToken": this.csrf, "X-Requested-With": "XMLHttpRequest" },
        body,
        credentials: "same-origin",
      });
      let data = {};
      try {
        data = await res.json();
      } catch {
        data = { ok: false, error: fmt(gettext("The server answered %(status)s."), { status: res.status }) };
      }
      if (!res.ok || !data.ok) this.error(data.error || fmt(gettext("The server answered %(status)s."), { status: res.status }));
      // The websocket's lab.status frames are newer than this answer when they came meanwhile.
      else if (data.status && this.statusFrames === frames) this.status(data.status, "");
    } catch {
      this.error(gettext("The server could not be reached. Check your connection and try again."));
    } finally {
      this.enable(this.current);
    }
  }

  /** A lab.status frame (or the page's initial status). */
  status(status, error, version) {
    this.statusFrames = (this.statusFrames || 0) + 1;
    this.current = status;
    this.root.dataset.status = status;
    this.badge.textContent = statusText(status);
    this.badge.className = "badge status-" + status;
    if (version) {
      this.versionShown.textContent = version;
      this.version.value = version;
    }
    this.progress.hidden = status !== "preparing";
    if (status === "preparing" && !this.progressStarted) this.setProgress("queued", 0);
    this.progressStarted = status === "preparing";
    if (status === "failed") this.error(error || gettext("The lab failed. Reset it to try again."), "lab-failed");
    else this.clear("lab-failed");
    this.enable(status);
  }

  enable(status) {
    const allowed = {
      preparing: [],
      ready: ["reset", "stop"],
      stopping: [],
      stopped: ["start", "reset"],
      failed: ["start", "reset"],
    }[status] || ["reset"];
    for (const [action, button] of Object.entries(this.buttons)) button.disabled = !allowed.includes(action);
    this.version.disabled = !allowed.includes("reset");
  }

  setProgress(step, percent) {
    this.progress.hidden = false;
    this.progressBar.setAttribute("aria-valuenow", String(percent));
    this.progressBar.style.setProperty("--percent", percent + "%");
    this.progressText.textContent = stepText(step) + " " + percent + "%";
    if (step === "ready" || percent >= 100) setTimeout(() => { if (this.current !== "preparing") this.progress.hidden = true; }, 600);
  }

  connection(online, retryIn) {
    this.conn.hidden = online;
    if (!online) this.conn.textContent = fmt(gettext("Connection lost: reconnecting in %(s)s s…"), { s: Math.max(1, Math.round(retryIn)) });
  }

  /** Show an error in the alert area; `id` lets a later call replace or clear it. */
  error(text, id = "") {
    this.clear(id || text);
    const item = document.createElement("div");
    item.className = "message error";
    item.dataset.id = id || text;
    item.innerHTML = "<span>" + esc(text) + "</span><button type=\"button\" class=\"close\" aria-label=\"" +
      esc(gettext("Dismiss")) + "\">×</button>";
    item.querySelector("button").addEventListener("click", () => item.remove());
    this.messages.append(item);
  }

  clear(id) {
    for (const m of this.messages.querySelectorAll(".message")) if (m.dataset.id === id) m.remove();
  }
}
