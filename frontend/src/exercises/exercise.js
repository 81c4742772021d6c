// The exercise panel of a lab page: answers, "pick a rule", hints, Check, and the grades that come back.
// Frames arrive as "nslab:frame" events from lab.js; rule clicks as "nslab:rule-click" from panels.js.
import { esc, fmt } from "../labs/dom.js";

const root = document.getElementById("exercise");
const attemptId = Number(root.dataset.attemptId);
const statusEl = document.getElementById("exercise-check-status");
const csrf = document.querySelector("#lab input[name=csrfmiddlewaretoken]")?.value || "";
const picks = new Map(); // "task/index" -> {ns, table, chain, number}
let picking = null; // {key, button, output}

function taskEl(id) {
  return root.querySelector(".task[data-task-id=\"" + CSS.escape(id) + "\"]");
}

function say(text) {
  statusEl.textContent = text;
}

// -- pick a rule -------------------------------------------------------------------------

function stopPicking() {
  if (!picking) return;
  picking.button.setAttribute("aria-pressed", "false");
  document.body.classList.remove("picking-rule");
  document.querySelectorAll("#panel-rules tr[data-rule]").forEach((row) => row.removeAttribute("tabindex"));
  picking = null;
}

root.querySelectorAll("[data-pick]").forEach((button) => {
  button.addEventListener("click", () => {
    const wasMe = picking && picking.button === button;
    stopPicking();
    if (wasMe) return;
    const question = button.closest(".question");
    const key = button.closest(".task").dataset.taskId + "/" + question.dataset.index;
    picking = { key, button, output: question.querySelector("[data-picked]") };
    button.setAttribute("aria-pressed", "true");
    document.body.classList.add("picking-rule");
    document.getElementById("tab-rules")?.click(); // renders the rule rows focusable
    document.querySelector("#panel-rules tr[data-rule]")?.focus();
    say(gettext("Click a rule in the Netfilter rules panel, or reach it with Tab and press Enter (Esc cancels)."));
  });
});

window.addEventListener("nslab:rule-click", (ev) => {
  if (!picking) return;
  const rule = ev.detail;
  picks.set(picking.key, rule);
  picking.output.textContent = fmt(gettext("Namespace %(ns)s, table %(table)s, chain %(chain)s, rule %(number)s"), rule);
  const button = picking.button;
  stopPicking();
  button.focus();
  say(gettext("Rule picked: press Check."));
});

document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && picking) {
    const button = picking.button;
    stopPicking();
    button.focus();
    say("");
  }
});

// -- Check -------------------------------------------------------------------------------

function answers() {
  const all = {};
  const put = (task, index, value) => {
    (all[task] ||= {})[index] = value;
  };
  root.querySelectorAll(".task").forEach((task) => {
    task.querySelectorAll(".question[data-kind=answer]").forEach((q) => {
      const value = q.querySelector("[data-answer]").value.trim();
      if (value) put(task.dataset.taskId, q.dataset.index, value);
    });
  });
  for (const [key, rule] of picks) {
    const [task, index] = key.split("/");
    put(task, index, rule);
  }
  return all;
}

// A read-only panel (an instructor watching) has no Check button.
document.getElementById("exercise-check")?.addEventListener("click", () => {
  const lang = document.documentElement.lang;
  const frame = { type: "attempt.check", answers: answers() };
  if (lang === "en" || lang === "zh-hans") frame.language = lang;
  if (window.nslab?.socket?.send(frame)) {
    root.setAttribute("aria-busy", "true");
    say(gettext("Checking…"));
  } else {
    say(gettext("Not connected to the lab: try again in a moment."));
  }
});

// -- grades ------------------------------------------------------------------------------

// The texts in this page's language: an instructor watching may read another than the student's.
function resultHtml(r, index) {
  const cls = r.ok === true ? "ok" : r.ok === false ? "fail" : "skipped";
  const texts = r.translations?.[document.documentElement.lang] || r;
  const diagnoses = (texts.diagnoses || []).map((d) => "<div class=\"diagnosis\">" + esc(d) + "</div>").join("");
  return "<li class=\"" + cls + "\" data-check=\"" + index + "\">" + esc(texts.message) + diagnoses + "</li>";
}

// A Check shows every result; a continuous grade replaces only the checks it ran (state checks), so
// the last Check's probe and question results (skipped while working) stay in their place.
function showResults(list, results, kind) {
  if (kind === "check" || !list.children.length) {
    const shown = kind === "check" ? results.map(resultHtml) : results.map((r, i) => (r.skipped ? "" : resultHtml(r, i)));
    list.innerHTML = shown.join("");
    return;
  }
  results.forEach((r, i) => {
    if (r.skipped) return;
    const old = list.querySelector(`[data-check="${i}"]`);
    const next = document.createElement("template");
    next.innerHTML = resultHtml(r, i);
    if (old) old.replaceWith(next.content);
    else list.append(next.content);
  });
}

function showGrades(f) {
  document.getElementById("exercise-score").textContent = String(Math.round(f.score * 100) / 100);
  for (const t of f.tasks) {
    const el = taskEl(t.id);
    if (!el) continue;
    el.classList.toggle("passed", t.passed);
    el.querySelector("[data-status]").textContent = t.passed ? "✓" : "○";
    el.querySelector("[data-status-text]").textContent = t.passed ? gettext("passed") : gettext("not passed yet");
    el.querySelector("[data-score]").textContent = String(Math.round(t.score * 100) / 100);
    showResults(el.querySelector("[data-results]"), t.results, f.kind);
  }
  // The step the student is on: the first task not passed (a watching instructor's panel marks it).
  const current = root.querySelector(".task:not(.passed)");
  root.querySelectorAll(".task").forEach((el) => el.classList.toggle("current", el === current));
  if (f.kind === "check") {
    root.removeAttribute("aria-busy");
    const passed = f.tasks.filter((t) => t.passed).length;
    say(fmt(gettext("Checked: %(passed)s of %(total)s tasks passed."), { passed, total: f.tasks.length }));
  }
}

window.addEventListener("nslab:frame", (ev) => {
  const f = ev.detail;
  if (f.type === "attempt.graded" && f.attempt_id === attemptId) showGrades(f);
  else if (f.type === "error" && root.getAttribute("aria-busy")) {
    root.removeAttribute("aria-busy");
    say(f.message);
  }
});

// -- hints -------------------------------------------------------------------------------

root.querySelectorAll("[data-hint]").forEach((button) => {
  button.addEventListener("click", async () => {
    const task = button.closest(".task");
    const body = new FormData();
    body.append("task_id", task.dataset.taskId);
    button.disabled = true;
    try {
      const response = await fetch(root.dataset.hintUrl, { method: "POST", body, headers: { "X-CSRFToken": csrf } });
      const data = await response.json();
      if (!data.ok) throw new Error(String(response.status));
      // The server renders the course's Markdown and escapes everything else.
      task.querySelector("[data-hints]").innerHTML = data.hints_html.map((h) => "<li>" + h + "</li>").join("");
      button.disabled = !data.more;
    } catch {
      button.disabled = false;
      say(gettext("The hint could not be loaded."));
    }
  });
});
