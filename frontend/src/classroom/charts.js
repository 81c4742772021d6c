// The dashboard's charts (Plotly, vendor/plotly-basic.min.js): per exercise the students in each state
// with the pass rate, and each student's time to pass; the checks failed most, with their reasons.
// The first two come from the grid's cells (kept live by dashboard.js), the last from the server.
import { esc, fmt } from "../labs/dom.js";

const COLOURS = { passed: "#16a34a", failed: "#dc2626", working: "#f59e0b", not_started: "#d1d5db" };
const CONFIG = { displayModeBar: false, responsive: true };
const FONT = { family: "system-ui, sans-serif", size: 12 };

function stateNames() {
  return {
    passed: gettext("passed"),
    failed: gettext("failed checks"),
    working: gettext("working"),
    not_started: gettext("not started"),
  };
}

function layout(extra) {
  return { font: FONT, margin: { l: 48, r: 12, t: 8, b: 40 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", ...extra };
}

/** exercises: [{id, index, title}]; cells: grid cells of the students shown. */
export function drawPassRate(el, exercises, cells) {
  const names = stateNames();
  const x = exercises.map((e) => "#" + e.index);
  const counts = Object.fromEntries(Object.keys(COLOURS).map((s) => [s, exercises.map(() => 0)]));
  const column = new Map(exercises.map((e, i) => [e.id, i]));
  for (const cell of cells) {
    const i = column.get(cell.exercise_id);
    if (i !== undefined) counts[cell.state][i] += 1;
  }
  const students = exercises.map((_, i) => Object.keys(COLOURS).reduce((n, s) => n + counts[s][i], 0));
  const rate = exercises.map((_, i) => (students[i] ? Math.round((100 * counts.passed[i]) / students[i]) : 0));
  const traces = Object.keys(COLOURS).map((state) => ({
    type: "bar",
    name: names[state],
    x,
    y: counts[state],
    marker: { color: COLOURS[state] },
    text: state === "passed" ? rate.map((r) => r + "%") : undefined,
    textposition: "inside",
    customdata: exercises.map((e) => e.title),
    hovertemplate: "%{customdata}<br>" + esc(names[state]) + ": %{y}<extra></extra>",
  }));
  Plotly.react(el, traces, layout({
    barmode: "stack",
    xaxis: categories(exercises),
    legend: { orientation: "h", y: -0.18 },
    yaxis: { title: { text: gettext("students") }, rangemode: "tozero", dtick: students[0] > 12 ? undefined : 1 },
    margin: { l: 48, r: 12, t: 8, b: 70 },
  }), CONFIG).then(() => { el.dataset.drawn = String(cells.length); });
}

// Plotly reads "#5" as the number 5: the exercises are categories, in the course's order, all shown.
function categories(exercises) {
  return {
    type: "category",
    categoryorder: "array",
    categoryarray: exercises.map((e) => "#" + e.index),
    range: [-0.5, exercises.length - 0.5], // every exercise, those without data too
    tickangle: 0,
  };
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Each passed cell's time from its attempt's start to its last task passed, in minutes. */
export function drawTimeToPass(el, exercises, cells, studentName) {
  const index = new Map(exercises.map((e) => [e.id, e]));
  const times = new Map();
  const x = [], y = [], who = [];
  for (const cell of cells) {
    const exercise = index.get(cell.exercise_id);
    if (cell.state !== "passed" || !cell.started_at || !cell.passed_at || !exercise) continue;
    const minutes = Math.max(0, (new Date(cell.passed_at) - new Date(cell.started_at)) / 60000);
    x.push("#" + exercise.index);
    y.push(Math.round(minutes * 10) / 10);
    who.push(studentName(cell.student_id) + " · " + exercise.title);
    times.set(exercise.id, [...(times.get(exercise.id) || []), minutes]);
  }
  const withTimes = exercises.filter((e) => times.has(e.id));
  const traces = [
    {
      type: "scatter",
      mode: "markers",
      name: gettext("a student"),
      x,
      y,
      text: who,
      marker: { color: "rgba(37, 99, 235, .55)", size: 9 },
      hovertemplate: "%{text}<br>" + esc(fmt(gettext("%(n)s min"), { n: "%{y}" })) + "<extra></extra>",
    },
    {
      type: "scatter",
      mode: "markers",
      name: gettext("median"),
      x: withTimes.map((e) => "#" + e.index),
      y: withTimes.map((e) => Math.round(median(times.get(e.id)) * 10) / 10),
      marker: { symbol: "line-ew-open", size: 26, color: "#111827", line: { width: 3, color: "#111827" } },
      hovertemplate: esc(gettext("median")) + ": " + esc(fmt(gettext("%(n)s min"), { n: "%{y}" })) + "<extra></extra>",
    },
  ];
  Plotly.react(el, traces, layout({
    showlegend: true,
    legend: { orientation: "h", y: -0.18 },
    xaxis: categories(exercises),
    yaxis: { title: { text: gettext("minutes to pass") }, rangemode: "tozero" },
    margin: { l: 56, r: 12, t: 8, b: 70 },
  }), CONFIG).then(() => { el.dataset.drawn = String(x.length); });
}

/** The checks failed most ({exercise, task, kind, reason, students, still, usernames}), as a list. */
export function drawFailedChecks(list, rows, total) {
  if (!rows.length) {
    list.innerHTML = "<li class=\"none\">" + esc(gettext("No failed checks yet.")) + "</li>";
    return;
  }
  const widest = Math.max(...rows.map((r) => r.students), 1);
  list.innerHTML = rows.map((r) => {
    const who = fmt(ngettext("%(n)s student", "%(n)s students", r.students), { n: r.students });
    const still = r.still ? fmt(gettext("%(n)s still"), { n: r.still }) : gettext("all fixed since");
    const width = Math.round((100 * r.students) / Math.max(widest, total || 0, 1));
    return "<li><div class=\"bar\" style=\"--w:" + width + "%\"></div>" +
      "<p><strong>" + esc(who) + "</strong> <span class=\"hint\">(" + esc(still) + ")</span> · " + esc(r.reason) + "</p>" +
      "<p class=\"hint\">" + esc(r.exercise) + " › " + esc(r.task) + " · <code>" + esc(r.kind) + "</code>" +
      " · <span title=\"" + esc(r.usernames.join(", ")) + "\">" + esc(r.usernames.slice(0, 6).join(", ")) +
      (r.usernames.length > 6 ? "…" : "") + "</span></p></li>";
  }).join("");
}
