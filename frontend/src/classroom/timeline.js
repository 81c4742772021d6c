// One student's timeline on the drill-down page (Plotly): every exercise started, every Check and
// every task passed while working, by time; a Check is green when it reached the full score.
import { esc, fmt } from "../labs/dom.js";

const el = document.getElementById("student-timeline");
const points = JSON.parse(document.getElementById("timeline-data").textContent);

function kindName(kind) {
  return { start: gettext("started"), check: gettext("Check"), continuous: gettext("Task passed while working") }[kind] || kind;
}

function trace(kind, symbol, colour) {
  const mine = points.filter((p) => p.kind === kind);
  return {
    type: "scatter",
    mode: "markers",
    name: kindName(kind),
    x: mine.map((p) => p.at),
    y: mine.map((p) => p.exercise),
    text: mine.map((p) => (kind === "start" ? "" : fmt(gettext("%(score)s of %(max)s points"), { score: Math.round(p.score * 100) / 100, max: p.max }) +
      (p.passed?.length ? "<br>" + esc(p.passed.join(", ")) : ""))),
    marker: {
      symbol,
      size: kind === "check" ? 12 : 9,
      color: typeof colour === "function" ? mine.map(colour) : colour,
      line: { width: 1, color: "#374151" },
    },
    hovertemplate: "%{y}<br>%{x}<br>" + esc(kindName(kind)) + " %{text}<extra></extra>",
  };
}

if (el && points.length) {
  const traces = [
    trace("start", "circle-open", "#6b7280"),
    trace("continuous", "diamond", "#93c5fd"),
    trace("check", "circle", (p) => (p.score >= p.max ? "#16a34a" : "#dc2626")),
  ];
  const rows = new Set(points.map((p) => p.exercise)).size;
  el.style.height = Math.max(12, 4 + rows * 2.2) + "rem";
  Plotly.react(el, traces, {
    font: { family: "system-ui, sans-serif", size: 12 },
    margin: { l: 12, r: 12, t: 8, b: 40 },
    legend: { orientation: "h", y: -0.2 },
    yaxis: { automargin: true, type: "category" },
    xaxis: { type: "date" },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
  }, { displayModeBar: false, responsive: true });
  el.dataset.drawn = String(points.length);
}
