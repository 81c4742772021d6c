// The instructor's progress grid: the server renders it, the cohort's socket keeps it live
// (classroom.grid on connect, then classroom.cell and classroom.presence as they change).
import { clockTime } from "../labs/dom.js";
import { LabSocket } from "../labs/socket.js";
import { drawFailedChecks, drawPassRate, drawTimeToPass } from "./charts.js";

const STATES = {
  not_started: gettext("not started"),
  working: gettext("working"),
  failed: gettext("failed checks"),
  passed: gettext("passed"),
};

const grid = document.getElementById("progress-grid");
const status = document.getElementById("live-status");

function exerciseTitle(id) {
  const th = grid.querySelector(`th.exercise[data-exercise-id="${id}"]`);
  return th ? th.title : "";
}

function number(value) {
  return String(Math.round(value * 10) / 10);
}

function rowOf(studentId) {
  return grid.querySelector(`tr[data-student-id="${studentId}"]`);
}

// Every cell the socket sent (the charts' data), by student and exercise; and the grid's <td> of each
// (found once: a whole grid is thousands of cells; forgotten when the rows are fetched again).
const cells = new Map();
let cellElements = null;

function cellElement(key) {
  if (!cellElements) {
    cellElements = new Map();
    for (const td of grid.querySelectorAll("tbody td.cell")) {
      cellElements.set(`${td.parentElement.dataset.studentId}-${td.dataset.exerciseId}`, td);
    }
  }
  return cellElements.get(key);
}

function applyCell(cell, { total = true } = {}) {
  const key = `${cell.student_id}-${cell.exercise_id}`;
  cells.set(key, cell);
  chartsLater();
  const td = cellElement(key);
  if (!td) return;
  if (td.dataset.state !== cell.state || Number(td.dataset.score) !== cell.score) {
    td.className = `cell state-${cell.state}`;
    td.dataset.state = cell.state;
    td.dataset.score = cell.score;
    td.textContent = cell.state === "not_started" ? "" : number(cell.score);
  }
  td.removeAttribute("title"); // written when pointed at (cellTitle)
  if (total) rowTotal(td.parentElement);
}

function rowTotal(row) {
  const total = row.querySelector("td.total");
  if (total) {
    let sum = 0;
    row.querySelectorAll("td.cell").forEach((c) => { sum += Number(c.dataset.score || 0); });
    total.textContent = number(sum);
  }
}

// A cell's tooltip, made when the pointer reaches it (not for every cell of every grid frame).
function cellTitle(td) {
  const cell = cells.get(`${td.parentElement.dataset.studentId}-${td.dataset.exerciseId}`);
  if (!cell || td.title) return;
  td.title = interpolate(gettext("%(exercise)s: %(state)s, %(score)s of %(max)s points, %(passed)s of %(tasks)s tasks"), {
    exercise: exerciseTitle(cell.exercise_id),
    state: STATES[cell.state],
    score: number(cell.score),
    max: number(cell.max_score),
    passed: cell.tasks_passed,
    tasks: cell.tasks,
  }, true);
}

function applyPresence(presence) {
  const row = rowOf(presence.student_id);
  const td = row && row.querySelector("td.presence");
  if (!td) return;
  td.dataset.online = presence.online ? "1" : "0";
  td.dataset.exerciseId = presence.exercise_id || "";
  td.dataset.since = presence.since || "";
  if (!presence.online) {
    td.textContent = "—";
    td.title = gettext("offline");
    return;
  }
  const since = presence.since ? new Date(presence.since) : null;
  const time = since ? clockTime(since) : "";
  const where = presence.exercise_id ? exerciseTitle(presence.exercise_id) : gettext("a lab of their own");
  td.textContent = interpolate(gettext("online since %(time)s"), { time }, true);
  td.title = interpolate(gettext("In %(where)s since %(time)s"), { where, time }, true);
  const index = grid.querySelector(`th.exercise[data-exercise-id="${presence.exercise_id}"] span`);
  if (index) td.textContent += ` · #${index.textContent}`;
  td.dataset.labId = presence.lab_id || "";
  if (presence.lab_id) {
    // The instructor's read-only view of the lab.
    const watch = document.createElement("a");
    watch.className = "watch";
    watch.href = `${grid.dataset.labs}${presence.lab_id}/`;
    watch.textContent = gettext("watch");
    td.append(" · ", watch);
  }
}

// Students joined or left: take the rows (and the count) from the page as the server draws it now.
// Frames that arrive while the rows are fetched are applied again to the new rows; a roster change
// during a fetch fetches once more afterwards.
let buffered = null;
let fetchAgain = false;

async function refreshRoster() {
  if (buffered) {
    fetchAgain = true;
    return;
  }
  buffered = [];
  try {
    const answer = await fetch(location.href, { credentials: "same-origin" });
    if (answer.ok) {
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const rows = page.querySelector("#progress-grid tbody");
      if (rows) grid.tBodies[0].replaceWith(document.importNode(rows, true));
      cellElements = null;
      const size = page.getElementById("cohort-size");
      if (size) document.getElementById("cohort-size").replaceWith(document.importNode(size, true));
    }
  } finally {
    const frames = buffered;
    buffered = null;
    frames.forEach(apply);
    chartsLater(); // students came or went
    grid.dataset.rosterSeq = String(Number(grid.dataset.rosterSeq || 0) + 1);
    if (fetchAgain) {
      fetchAgain = false;
      refreshRoster();
    }
  }
}

// The charts: redrawn a moment after the cells change (a burst of grades draws once); the most-failed
// checks are fetched again after a grade.
const charts = document.getElementById("charts");
let chartTimer = null;
let failedTimer = null;

function chartsLater() {
  if (!charts || chartTimer) return;
  chartTimer = setTimeout(() => {
    chartTimer = null;
    drawCharts();
  }, 300);
}

// plotly.js (a megabyte to parse) is fetched beside the socket, not before the page's scripts run.
const plotlyReady = charts && new Promise((resolve, reject) => {
  const script = Object.assign(document.createElement("script"), { src: charts.dataset.plotly });
  script.addEventListener("load", resolve);
  script.addEventListener("error", reject);
  document.head.append(script);
});

async function drawCharts() {
  await plotlyReady;
  const exercises = [...grid.querySelectorAll("th.exercise")].map((th) => ({
    id: Number(th.dataset.exerciseId),
    index: th.textContent.trim(),
    title: th.title,
  }));
  const students = new Map([...grid.querySelectorAll("tbody tr[data-student-id]")].map((tr) => [
    Number(tr.dataset.studentId), tr.querySelector("th.student a").textContent.trim(),
  ]));
  const shown = [...cells.values()].filter((c) => students.has(c.student_id));
  drawPassRate(document.getElementById("chart-pass-rate"), exercises, shown);
  drawTimeToPass(document.getElementById("chart-time-to-pass"), exercises, shown, (id) => students.get(id) || "");
}

function failedChecksLater() {
  if (!charts || failedTimer) return;
  failedTimer = setTimeout(async () => {
    failedTimer = null;
    const answer = await fetch(charts.dataset.failedChecks, { credentials: "same-origin" });
    if (answer.ok) showFailedChecks((await answer.json()).failed_checks);
  }, 2000);
}

function showFailedChecks(rows) {
  drawFailedChecks(document.getElementById("failed-checks"), rows, grid.querySelectorAll("tbody tr[data-student-id]").length);
}

if (charts) showFailedChecks(JSON.parse(document.getElementById("failed-checks-data").textContent));

function apply(frame) {
  if (frame.type === "classroom.roster") {
    refreshRoster();
    return;
  }
  if (frame.type === "classroom.cell") failedChecksLater();
  if (buffered) buffered.push(frame);
  if (frame.type === "classroom.grid") {
    frame.cells.forEach((cell) => applyCell(cell, { total: false }));
    grid.querySelectorAll("tbody tr[data-student-id]").forEach(rowTotal);
    frame.presence.forEach(applyPresence);
    grid.dataset.live = "1";
    if (charts) {
      clearTimeout(chartTimer); // the whole grid: drawn at once
      chartTimer = null;
      drawCharts();
    }
  } else if (frame.type === "classroom.cell") {
    applyCell(frame.cell);
  } else if (frame.type === "classroom.presence") {
    applyPresence(frame.presence);
  }
}

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

if (grid) {
  grid.addEventListener("mouseover", (ev) => {
    const td = ev.target.closest("td.cell");
    if (td) cellTitle(td);
  });
  new LabSocket(grid.dataset.socket, {
    open(again) {
      setStatus("live", gettext("live"));
      if (again) refreshRoster(); // students may have joined while the socket was down
    },
    close() {
      setStatus("closed", gettext("reconnecting…"));
    },
    frame: apply,
  });
}
