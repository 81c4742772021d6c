// The live topology graph: namespaces as labelled boxes, interfaces as nodes, veth pairs and
// bridge ports as edges, drawn with Plotly (global `Plotly` from vendor/plotly-basic.min.js).
//
// Layout is deterministic and sticky: a namespace keeps its box position and an interface keeps its
// row inside the box for as long as the page lives, so nothing moves when other things come and go.
import { esc, fmt } from "./dom.js";

const ROW_PX = 46; // vertical pixels per interface row
const UNIT_PX = 100; // at least this many pixels per horizontal unit, so that labels fit their boxes
const TITLE_ROWS = 1.1; // a box's title band, in rows
const GAP_ROWS = 0.7; // between boxes in a column
const MAX_COLUMN_ROWS = 26; // containers start a new column below this
// Columns (x in abstract units): container columns grow to the left of 0.
const COLUMNS = { host: { x0: 1.8, w: 2.1 }, router: { x0: 4.5, w: 1.5 }, edge: { x0: 6.5, w: 1.4 } };
const CONTAINER_W = 1.4;
const COLORS = {
  host: { fill: "rgba(37,99,235,0.07)", line: "#2563eb" },
  container: { fill: "rgba(5,150,105,0.08)", line: "#059669" },
  outside: { fill: "rgba(217,119,6,0.08)", line: "#d97706" },
};

export class TopologyGraph {
  constructor(el, detailsEl) {
    this.el = el;
    this.detailsEl = detailsEl;
    this.boxes = new Map(); // namespace -> {col, x0, w, top, rows}
    this.rows = new Map(); // namespace -> Map(ifname -> row)
    this.nodes = new Map(); // key "ns/ifname" -> node info (for clicks)
    this.lastSignature = "";
    this.bound = false;
    this.fontScale = 1;
  }

  /** Draw a snapshot; resolves when Plotly has finished. */
  async draw(snapshot, seq) {
    const model = this.model(snapshot);
    const signature = JSON.stringify([model.data, model.shapes, model.annotations, this.fontScale]);
    if (signature !== this.lastSignature) {
      this.lastSignature = signature;
      await Plotly.react(this.el, model.data, this.layout(model), {
        displaylogo: false,
        responsive: true,
        scrollZoom: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"],
      });
      this.bind();
    }
    this.el.dataset.drawnSeq = String(seq);
  }

  setFontScale(scale) {
    this.fontScale = scale;
  }

  /** Sticky position of a namespace's box, creating it on first sight. */
  place(ns, rowsNeeded) {
    let box = this.boxes.get(ns.name);
    if (box && !this.live.has(box) && this.overlaps(box, rowsNeeded)) box = null; // came back, place taken
    if (!box) {
      box = this.newBox(ns, rowsNeeded);
      this.boxes.set(ns.name, box);
    }
    box.rows = Math.max(box.rows, rowsNeeded);
    return box;
  }

  newBox(ns, rows) {
    const fixed = { host: ["host", 0], router: ["router", 0], remote: ["edge", 0], client: ["edge", null] };
    if (fixed[ns.name] && ns.kind !== "container") {
      const [col, top] = fixed[ns.name];
      const c = COLUMNS[col];
      return { col, x0: c.x0, w: c.w, top: top ?? this.firstGap(col, rows, Infinity), rows };
    }
    // Containers: first gap that fits in the nearest column with room.
    for (let i = 0; ; i += 1) {
      const col = "c" + i;
      const top = this.firstGap(col, rows, MAX_COLUMN_ROWS);
      if (top !== null) return { col, x0: -i * (CONTAINER_W + 0.6), w: CONTAINER_W, top, rows };
    }
  }

  overlaps(box, rows) {
    const end = box.top + TITLE_ROWS + Math.max(box.rows, rows) + GAP_ROWS;
    return [...this.live].some((b) => b.col === box.col && b.top < end && box.top < b.top + TITLE_ROWS + b.rows + GAP_ROWS);
  }

  /** The top of the first free stretch of `rows` in a column, or null past `limit`. */
  firstGap(col, rows, limit) {
    const taken = [...this.boxes.values()].filter((b) => b.col === col && this.live.has(b))
      .map((b) => [b.top, b.top + TITLE_ROWS + b.rows + GAP_ROWS]).sort((a, b) => a[0] - b[0]);
    let top = 0;
    for (const [start, end] of taken) {
      if (top + TITLE_ROWS + rows + GAP_ROWS <= start) break;
      top = Math.max(top, end);
    }
    if (top > 0 && top + rows > limit) return null;
    return top;
  }

  /** Push boxes down only when a box grew into the one below it. */
  settle() {
    const byCol = new Map();
    for (const b of this.live) byCol.set(b.col, [...(byCol.get(b.col) || []), b]);
    for (const boxes of byCol.values()) {
      boxes.sort((a, b) => a.top - b.top);
      for (let i = 1; i < boxes.length; i += 1) {
        const prev = boxes[i - 1];
        const minTop = prev.top + TITLE_ROWS + prev.rows + GAP_ROWS;
        if (boxes[i].top < minTop) boxes[i].top = minTop;
      }
    }
  }

  /** Sticky row of each interface inside its namespace. */
  assignRows(nsName, links) {
    let rows = this.rows.get(nsName);
    if (!rows) this.rows.set(nsName, (rows = new Map()));
    const present = new Set(links.map((l) => l.name));
    for (const name of [...rows.keys()]) if (!present.has(name)) rows.delete(name);
    const used = new Set(rows.values());
    for (const link of links) {
      if (rows.has(link.name)) continue;
      let r = 0;
      while (used.has(r)) r += 1;
      rows.set(link.name, r);
      used.add(r);
    }
    return rows;
  }

  model(snap) {
    const namespaces = snap.namespaces || [];
    this.live = new Set();
    const rowMaps = new Map();
    for (const ns of namespaces) {
      const links = snap.links[ns.name] || [];
      const rows = this.assignRows(ns.name, links);
      rowMaps.set(ns.name, rows);
      const needed = Math.max(2, ...[...rows.values()].map((r) => r + 1));
      const box = this.place(ns, needed);
      this.live.add(box);
    }
    this.settle();

    const centre = (name) => {
      const b = this.boxes.get(name);
      return b ? b.x0 + b.w / 2 : 0;
    };
    const shapes = [];
    const annotations = [];
    const node = { x: [], y: [], text: [], hover: [], key: [], symbol: [], color: [], pos: [] };
    const at = new Map(); // "ns/if" -> [x, y]
    this.nodes.clear();
    let bottom = 0;
    let left = Infinity;
    let right = -Infinity;
    for (const ns of namespaces) {
      const box = this.boxes.get(ns.name);
      const colors = COLORS[ns.kind] || COLORS.outside;
      const y0 = box.top;
      const y1 = box.top + TITLE_ROWS + box.rows;
      bottom = Math.max(bottom, y1);
      left = Math.min(left, box.x0);
      right = Math.max(right, box.x0 + box.w);
      shapes.push({ type: "rect", x0: box.x0, x1: box.x0 + box.w, y0: -y0, y1: -y1, fillcolor: colors.fill,
        line: { color: colors.line, width: 1.5 }, layer: "below" });
      const extra = ns.kind === "container" && ns.containers.length > 1 ? " (" + ns.containers.join(", ") + ")" : "";
      annotations.push({ x: box.x0 + 0.04, y: -y0 - 0.1, xanchor: "left", yanchor: "top", showarrow: false,
        align: "left", text: "<b>" + esc(ns.name) + "</b>" + esc(extra) + (ns.kind === "outside" ? "" : " <span style=\"color:#6b7280\">" + esc(kindLabel(ns.kind)) + "</span>"),
        font: { size: 13 * this.fontScale, color: colors.line } });
      const addrs = snap.addresses[ns.name] || [];
      const rows = rowMaps.get(ns.name);
      for (const link of snap.links[ns.name] || []) {
        const side = this.side(ns.name, link, centre);
        const x = side === "left" ? box.x0 + 0.06 : side === "right" ? box.x0 + box.w - 0.06 : box.x0 + box.w * 0.3;
        const y = -(y0 + TITLE_ROWS + rows.get(link.name) + 0.45);
        const v4 = addrs.filter((a) => a.ifname === link.name && a.family === "inet").map((a) => a.address + "/" + a.prefixlen);
        const key = ns.name + "/" + link.name;
        at.set(key, [x, y]);
        this.nodes.set(key, { ns: ns.name, link, addresses: addrs.filter((a) => a.ifname === link.name) });
        node.x.push(x);
        node.y.push(y);
        node.key.push(key);
        node.pos.push(side === "right" ? "middle left" : "middle right");
        node.text.push("<b>" + esc(link.name) + "</b>" + (v4.length ? "<br>" + esc(v4.join(" ")) : "") +
          (link.kind !== "loopback" ? "<br><span style=\"color:#6b7280\">" + esc(link.mac) + "</span>" : ""));
        node.hover.push(hoverText(ns.name, link, addrs));
        node.symbol.push({ bridge: "square", loopback: "diamond", veth: "circle" }[link.kind] || "hexagon");
        node.color.push(link.state !== "UP" ? "#9ca3af" : link.operstate === "DOWN" || link.operstate === "LOWERLAYERDOWN" ? "#dc2626" : "#16a34a");
      }
    }
    // Outside world: one dashed frame around router, remote and client.
    const outside = namespaces.filter((n) => n.kind === "outside").map((n) => this.boxes.get(n.name));
    if (outside.length) {
      const x0 = Math.min(...outside.map((b) => b.x0)) - 0.15;
      const x1 = Math.max(...outside.map((b) => b.x0 + b.w)) + 0.15;
      const y1 = Math.max(...outside.map((b) => b.top + TITLE_ROWS + b.rows)) + 0.3;
      shapes.push({ type: "rect", x0, x1, y0: 0.9, y1: -y1, line: { color: "#d97706", width: 1, dash: "dot" }, layer: "below" });
      annotations.push({ x: (x0 + x1) / 2, y: 0.85, yanchor: "bottom", showarrow: false,
        text: "<i>" + esc(gettext("Outside world (simulated internet)")) + "</i>", font: { size: 12 * this.fontScale, color: "#b45309" } });
      bottom = Math.max(bottom, y1);
      right = Math.max(right, x1);
    }
    const edges = { veth: { x: [], y: [] }, port: { x: [], y: [] } };
    const seen = new Set();
    for (const ns of namespaces) {
      for (const link of snap.links[ns.name] || []) {
        const a = at.get(ns.name + "/" + link.name);
        if (link.peer_namespace && link.peer_name) {
          const pk = link.peer_namespace + "/" + link.peer_name;
          const id = [ns.name + "/" + link.name, pk].sort().join("|");
          const b = at.get(pk);
          if (b && !seen.has(id)) {
            seen.add(id);
            edges.veth.x.push(a[0], b[0], null);
            edges.veth.y.push(a[1], b[1], null);
          }
        }
        const m = link.master && at.get(ns.name + "/" + link.master);
        if (m) {
          edges.port.x.push(a[0], m[0], null);
          edges.port.y.push(a[1], m[1], null);
        }
      }
    }
    const font = { size: 11 * this.fontScale, family: "ui-monospace, SFMono-Regular, Menlo, monospace", color: "#1f2937" };
    const data = [
      { type: "scatter", mode: "lines", name: gettext("veth pair"), x: edges.veth.x, y: edges.veth.y,
        line: { color: "#4b5563", width: 2 }, hoverinfo: "skip" },
      { type: "scatter", mode: "lines", name: gettext("bridge port"), x: edges.port.x, y: edges.port.y,
        line: { color: "#2563eb", width: 1.5, dash: "dash" }, hoverinfo: "skip" },
      { type: "scatter", mode: "markers+text", name: gettext("interface"), x: node.x, y: node.y, text: node.text,
        textposition: node.pos, textfont: font, customdata: node.key, hovertext: node.hover, hoverinfo: "text",
        hoverlabel: { align: "left", bgcolor: "#ffffff", bordercolor: "#94a3b8", font: { family: font.family, color: "#111827" } },
        marker: { size: 13 * this.fontScale, symbol: node.symbol, color: node.color, line: { color: "#fff", width: 1.5 } } },
    ];
    return { data, shapes, annotations, extent: { left, right, bottom } };
  }

  /** Which edge of its box an interface sits on: towards its peer, bridges in the middle. */
  side(nsName, link, centre) {
    const peer = link.peer_namespace && link.peer_namespace !== nsName ? link.peer_namespace : null;
    if (!peer || link.kind === "bridge" || link.kind === "loopback") return "middle";
    return centre(peer) < centre(nsName) ? "left" : "right";
  }

  layout(model) {
    const { left, right, bottom } = model.extent;
    const rows = bottom + 1.2;
    this.el.style.height = Math.max(320, Math.round(rows * ROW_PX * this.fontScale)) + "px";
    this.el.style.minWidth = Math.round((right - left + 0.3) * UNIT_PX * this.fontScale) + "px";
    const pad = 0.15;
    return {
      uirevision: [left, right, Math.round(bottom)].join(","),
      margin: { l: 8, r: 8, t: 8, b: 8 },
      showlegend: false,
      hovermode: "closest",
      dragmode: "pan",
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { visible: false, range: [left - pad, right + pad], fixedrange: false },
      yaxis: { visible: false, range: [-rows, 1.3], fixedrange: false },
      shapes: model.shapes,
      annotations: model.annotations,
    };
  }

  bind() {
    if (this.bound) return;
    this.bound = true;
    this.el.on("plotly_click", (ev) => {
      const point = ev.points.find((p) => p.customdata);
      if (point) this.showDetails(point.customdata);
    });
  }

  /** The details box of one interface (click on a node). */
  showDetails(key) {
    const info = this.nodes.get(key);
    if (!info || !this.detailsEl) return;
    const { link } = info;
    const rows = [
      [gettext("Namespace"), info.ns],
      [gettext("Kind"), link.kind],
      [gettext("State"), link.state + " / " + link.operstate],
      [gettext("MAC address"), link.mac],
      [gettext("MTU"), link.mtu],
      [gettext("Addresses"), info.addresses.map((a) => a.address + "/" + a.prefixlen).join(", ") || "—"],
    ];
    if (link.master) rows.push([gettext("Bridge"), link.master + (link.port_state ? " (" + link.port_state + ")" : "")]);
    if (link.peer_name) rows.push([gettext("veth peer"), (link.peer_namespace || "?") + " / " + link.peer_name]);
    this.detailsEl.innerHTML = "<h3>" + esc(fmt(gettext("Interface %(name)s"), { name: link.name })) + "</h3><dl>" +
      rows.map(([k, v]) => "<dt>" + esc(k) + "</dt><dd>" + esc(v) + "</dd>").join("") + "</dl>" +
      "<button type=\"button\" class=\"close\" aria-label=\"" + esc(gettext("Close")) + "\">×</button>";
    this.detailsEl.hidden = false;
    this.detailsEl.querySelector(".close").addEventListener("click", () => { this.detailsEl.hidden = true; });
    this.detailsEl.focus();
  }
}

function kindLabel(kind) {
  return { host: gettext("Docker host"), container: gettext("container"), outside: gettext("outside world") }[kind] || kind;
}

function hoverText(ns, link, addrs) {
  const lines = [
    "<b>" + esc(ns + " / " + link.name) + "</b> (" + esc(link.kind) + ")",
    esc(gettext("State")) + ": " + esc(link.state + " / " + link.operstate) + " · MTU " + link.mtu,
    "MAC: " + esc(link.mac),
  ];
  for (const a of addrs) if (a.ifname === link.name) lines.push(esc(a.address + "/" + a.prefixlen + " " + a.scope));
  if (link.master) lines.push(esc(fmt(gettext("port of bridge %(bridge)s"), { bridge: link.master })) + (link.port_state ? " (" + esc(link.port_state) + ")" : ""));
  if (link.peer_name) lines.push(esc(fmt(gettext("veth peer: %(peer)s"), { peer: (link.peer_namespace || "?") + " / " + link.peer_name })));
  return lines.join("<br>");
}
