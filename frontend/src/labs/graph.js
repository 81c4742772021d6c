// The live topology graph: namespaces as labelled boxes, interfaces as nodes, veth pairs and
// bridge ports as edges, drawn with Plotly (global `Plotly` from vendor/plotly-basic.min.js).
//
// Layout is deterministic and sticky: a namespace keeps its box position and an interface keeps its
// row inside the box for as long as the page lives, so nothing moves when other things come and go.
// The exceptions are the rows of the Docker host and of the containers: the host's interfaces are
// grouped by bridge and follow where the containers stand, a container's veths follow its bridges, so
// that veth lines do not cross (graph_layout.js, which also says where a new container goes).
//
// The drawing always fits its card: the view is zoomed to fit on every change of the topology and of
// the card's size, unless the student zoomed or panned (their view is kept until they press "Fit").
// Text does not scale with the zoom, so the labels say less when the view is small (see `detail`).
import { esc, fmt } from "./dom.js";
import { linkKindText, namespaceKindText } from "./explain.js";
import {
  bandOrder, bridgeOrder, choosePlace, containerRows, crossings, freeTops, hostRows, preferredOrder,
} from "./graph_layout.js";

const ROW_PX = 46; // vertical pixels per interface row at full size
const UNIT_PX = 100; // pixels per horizontal unit at full size, so that full labels fit their boxes
const STRETCH = 1.5; // fitting may stretch one axis this much more than the other, to fill the card
const MARGIN_PX = 8;
const PAD = 0.15; // horizontal units around the drawing
const TOP = 1.3; // the drawing's top edge (y of the outside world's title band)
const FONT_PX = 11; // interface labels at full size
const TITLE_PX = 13; // box titles
const NOTE_PX = 12; // the outside world's caption
const MARKER_PX = 13;
const MIN_FONT_PX = 8; // smaller text is left out rather than drawn
const CHAR_EM = 0.62; // width of a Latin character, in ems (labels are monospace, titles bold sans)
const TITLE_ROWS = 1.1; // a box's title band, in rows
const GAP_ROWS = 0.7; // between boxes in a column
// The left container column takes no new box below the host box's height (at least MIN_COLUMN_ROWS)
// or the right column's end: the right one then, which makes the drawing no wider.
const MIN_COLUMN_ROWS = 12;
// Columns (x in abstract units). Containers stand left and right of the host box (graph_layout.js);
// the right column below the outside world, so that it makes the drawing no wider.
const CONTAINER_W = 1.4;
const COLUMN_GAP = 0.4;
const COLUMNS = { host: { x0: 1.8, w: 2.1 }, router: { x0: 4.5, w: 1.5 }, edge: { x0: 6.5, w: 1.4 } };
const CONTAINER_COLUMNS = ["left", "right"];
const OUTSIDE_PAD_ROWS = 0.3; // the outside world's frame below its boxes
// The right column stands well clear of the host box (within the outside world's width): the steep
// lines from the host to its lower containers then pass well left of the nodes of those above.
const CONTAINER_X = { left: COLUMNS.host.x0 - COLUMN_GAP - CONTAINER_W, right: COLUMNS.router.x0 + 0.6 };
const COLORS = {
  host: { fill: "rgba(37,99,235,0.07)", line: "#2563eb" },
  container: { fill: "rgba(5,150,105,0.08)", line: "#059669" },
  outside: { fill: "rgba(217,119,6,0.08)", line: "#d97706" },
};
const ZOOM_STEP = 1.5; // the zoom buttons' factor
const PLOTLY_CONFIG = {
  displayModeBar: false, // the card's own zoom buttons instead: keyboard-reachable, translated
  scrollZoom: true,
  doubleClick: false, // Plotly's reset would restore the first view, not a fit of the current one
};

export class TopologyGraph {
  constructor(el, detailsEl) {
    this.el = el;
    this.detailsEl = detailsEl;
    this.boxes = new Map(); // namespace -> {col, x0, w, top, rows}
    this.rows = new Map(); // namespace -> Map(ifname -> row) (the host's and containers' are not kept)
    this.bands = []; // the host's bridges, top first (graph_layout.js)
    this.nodes = new Map(); // key "ns/ifname" -> node info (for clicks)
    this.fontScale = 1;
    this.drawing = null; // the model of the last snapshot
    this.signature = "";
    this.view = null; // the student's zoom and pan {cx, cy, sx, sy}; null: fit the card
    this.shown = ""; // what Plotly shows now (model, size, ranges, detail), to skip same redraws
    this.queue = Promise.resolve();
    this.bound = false;
    this.trail = null; // a packet walk's links and namespace so far (trace.js), drawn over the graph
    this.addViewButtons();
    // The card changes size with the window, the grid and the fonts: fit (or keep the view) again.
    new ResizeObserver(() => this.redraw()).observe(el.closest(".card") || el.parentElement);
  }

  /** Draw a snapshot; resolves when Plotly has finished. */
  async draw(snapshot, seq) {
    const drawing = this.model(snapshot);
    const signature = JSON.stringify(drawing);
    if (signature !== this.signature) {
      this.signature = signature;
      this.drawing = drawing;
      await this.redraw();
    }
    this.el.dataset.drawnSeq = String(seq);
  }

  /** Light the links a packet crossed and the namespace it is in ({segments, ns, reply, dropped}); null: none. */
  setTrail(trail) {
    this.trail = trail;
    this.el.dataset.trail = trail ? trail.segments.length + ":" + trail.ns : "";
    return this.redraw();
  }

  setFontScale(scale) {
    this.fontScale = scale;
    this.redraw();
  }

  /** Zoom to show the whole topology, and keep fitting it until the student zooms again. */
  fit() {
    this.view = null;
    return this.redraw();
  }

  /** Render the current drawing at the card's size, after any render under way. */
  redraw() {
    this.queue = this.queue.then(() => this.render()).catch((err) => console.error("graph", err));
    return this.queue;
  }

  /** Zoom in (factor > 1) or out around the centre of the view; the student's view from then on. */
  zoom(factor) {
    if (!this.drawing) return this.queue;
    const view = this.view || this.fitView(this.plotSize(), this.drawing.extent);
    this.view = { ...view, sx: view.sx * factor, sy: view.sy * factor };
    return this.redraw();
  }

  /** The plot area in pixels: the card's graph area less the margins. */
  plotSize() {
    return { w: Math.max(1, this.el.clientWidth - 2 * MARGIN_PX), h: Math.max(1, this.el.clientHeight - 2 * MARGIN_PX) };
  }

  async render() {
    const size = { w: this.el.clientWidth, h: this.el.clientHeight };
    if (!this.drawing || !size.w || !size.h) return;
    const plot = this.plotSize();
    const view = this.view || this.fitView(plot, this.drawing.extent);
    const ranges = {
      x: [view.cx - plot.w / 2 / view.sx, view.cx + plot.w / 2 / view.sx],
      y: [view.cy - plot.h / 2 / view.sy, view.cy + plot.h / 2 / view.sy],
    };
    const figure = this.figure(this.drawing, detail(view, this.fontScale));
    const shown = JSON.stringify([this.signature, size, ranges, figure.detail, this.trail]);
    if (shown === this.shown) return;
    this.shown = shown;
    await Plotly.react(this.el, figure.data, {
      width: size.w,
      height: size.h,
      autosize: false,
      margin: { l: MARGIN_PX, r: MARGIN_PX, t: MARGIN_PX, b: MARGIN_PX },
      showlegend: false,
      hovermode: "closest",
      dragmode: "pan",
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { visible: false, range: ranges.x },
      yaxis: { visible: false, range: ranges.y },
      shapes: figure.shapes,
      annotations: figure.annotations,
    }, PLOTLY_CONFIG);
    this.el.dataset.view = this.view ? "student" : "fit";
    this.el.dataset.fontScale = String(this.fontScale);
    this.bind();
  }

  /** The view that shows the whole drawing in a plot area of `plot` pixels: centred, at the top. */
  fitView(plot, { left, right, bottom }) {
    const spanX = right - left + 2 * PAD;
    const spanY = TOP + bottom + 0.3;
    const kx = plot.w / spanX; // px per unit if the width decides
    const ky = plot.h / spanY; // px per row if the height decides
    const aspect = ROW_PX / UNIT_PX;
    const scale = Math.min(kx, ky / aspect); // px per unit with the drawing's own proportions
    const sx = Math.min(kx, scale * STRETCH, UNIT_PX * this.fontScale);
    const sy = Math.min(ky, scale * aspect * STRETCH, ROW_PX * this.fontScale);
    return { cx: (left + right) / 2, cy: TOP - plot.h / 2 / sy, sx, sy };
  }

  /** Zoom out, zoom in and Fit, in the card's head before its Refresh button. */
  addViewButtons() {
    const head = this.el.closest(".card")?.querySelector(".card-head");
    if (!head) return;
    const group = document.createElement("span");
    group.className = "graph-view";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", gettext("Zoom"));
    const button = (text, title, action, label = "") => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "ghost small";
      b.textContent = text;
      b.title = title;
      if (label) b.setAttribute("aria-label", label);
      b.setAttribute("aria-controls", this.el.id);
      b.addEventListener("click", action);
      group.append(b);
    };
    button("−", gettext("Zoom out"), () => this.zoom(1 / ZOOM_STEP), gettext("Zoom out"));
    button("+", gettext("Zoom in"), () => this.zoom(ZOOM_STEP), gettext("Zoom in"));
    button(gettext("Fit"), gettext("Show the whole topology, fitted to the card (scroll to zoom, drag to pan)"), () => this.fit());
    head.insertBefore(group, head.querySelector("#refresh"));
  }

  /** Sticky position of a namespace's box other than a container's, creating it on first sight. */
  place(ns, rowsNeeded) {
    let box = this.boxes.get(ns.name);
    if (box && !this.live.has(box) && this.overlaps(box, rowsNeeded)) box = null; // came back, place taken
    if (!box) {
      const fixed = { host: ["host", 0], router: ["router", 0], remote: ["edge", 0], client: ["edge", null] };
      const [col, top] = fixed[ns.name] || ["edge", null];
      const c = COLUMNS[col];
      box = { col, x0: c.x0, w: c.w, top: top ?? this.firstGap(col, rowsNeeded), rows: rowsNeeded };
      this.boxes.set(ns.name, box);
    }
    box.rows = Math.max(box.rows, rowsNeeded);
    return box;
  }

  /** Containers keep their boxes; new ones (and those whose place was taken) go where their veth
   *  lines cross the fewest others (graph_layout.js). A container first seen before its veths (Docker
   *  makes them after the namespace) is placed again once they are there; one whose bridges changed
   *  (`docker network connect`) moves if a free place makes fewer lines cross. Sets the bands' order
   *  (`this.bands`). */
  placeContainers(containers, snap, before) {
    const hostLinks = snap.links.host || [];
    const info = containerInfo(containers, snap);
    const bridgesOf = new Map(info.map((c) => [c.name, [...c.bridges].sort().join(" ")]));
    const bridges = hostLinks.filter((l) => l.kind === "bridge").sort((a, b) => a.ifindex - b.ifindex).map((l) => l.name);
    const known = this.bands.filter((b) => bridges.includes(b));
    const start = known.length ? [...known, ...bridges.filter((b) => !known.includes(b))]
      : bridgeOrder(bridges, info.map((c) => c.bridges));
    const bestBands = () => bandOrder(start, (order) => this.arrange(order, containers, snap).crossings);
    const crossingsNow = () => this.arrange(bestBands(), containers, snap).crossings;
    const put = (name, rows, c) => {
      const box = { col: c.col, x0: CONTAINER_X[c.col], w: CONTAINER_W, top: c.top, rows, bridges: bridgesOf.get(name) };
      this.boxes.set(name, box);
      this.live.add(box);
      return box;
    };
    const costAt = (name, rows) => (c) => {
      const box = put(name, rows, c);
      const k = crossingsNow();
      this.live.delete(box);
      return k;
    };
    const fresh = new Set();
    const changed = [];
    for (const ns of containers) {
      const needed = (snap.links[ns.name] || []).length;
      const box = this.boxes.get(ns.name);
      // A box drawn last time stays (settle() pushes down what it grew into); one coming back, if free.
      if (box && (box.bridges || !bridgesOf.get(ns.name)) && (before.has(box) || !this.overlaps(box, needed))) {
        box.rows = Math.max(box.rows, needed, 2);
        this.live.add(box);
        if (box.bridges !== bridgesOf.get(ns.name)) changed.push(ns.name);
      } else fresh.add(ns.name);
    }
    const preferred = preferredOrder(info, start);
    for (const name of preferred) {
      if (!fresh.has(name)) continue;
      const rows = Math.max(2, (snap.links[name] || []).length);
      put(name, rows, choosePlace(this.candidates(rows), costAt(name, rows)));
    }
    for (const name of changed) {
      const box = this.boxes.get(name);
      box.bridges = bridgesOf.get(name);
      const now = crossingsNow();
      if (!now) continue;
      this.live.delete(box);
      const cost = costAt(name, box.rows);
      const place = choosePlace(this.candidates(box.rows), cost);
      if (place && cost(place) < now) put(name, box.rows, place);
      else {
        this.boxes.set(name, box);
        this.live.add(box);
      }
    }
    this.bands = bestBands();
  }

  /** With the bands in `order`: the interface rows of the live containers and of the host, and how
   *  many veth lines cross. */
  arrange(order, containers, snap) {
    const hostLinks = snap.links.host || [];
    const masters = new Map(hostLinks.map((l) => [l.name, l.master || null]));
    const bridgeOf = (l) => (l.peer_namespace === "host" && masters.has(l.peer_name) ? masters.get(l.peer_name) : undefined);
    const rows = new Map();
    const ports = new Map(); // host veth -> {y, side}: where its container end is
    for (const ns of containers) {
      const box = this.boxes.get(ns.name);
      if (!box || !this.live.has(box)) continue;
      const links = snap.links[ns.name] || [];
      const own = containerRows(links, bridgeOf, order);
      rows.set(ns.name, own);
      for (const link of links) {
        if (bridgeOf(link) !== undefined) ports.set(link.peer_name, { y: box.top + TITLE_ROWS + own.get(link.name), side: box.col });
      }
    }
    const host = hostRows(hostLinks, ports, order);
    rows.set("host", host);
    return { rows, crossings: crossings(host, ports) };
  }

  /** Free places for a container box of `rows` rows, in reading order: left column, then right. */
  candidates(rows) {
    const height = TITLE_ROWS + rows + GAP_ROWS;
    const rightTop = this.belowOutside();
    // The left column's limit: the host box's height, or where the right column ends, so that the
    // columns end about level.
    const host = this.boxes.get("host");
    const rightEnd = Math.max(rightTop, ...this.taken("right").map(([, end]) => end));
    const limit = Math.max(MIN_COLUMN_ROWS, host ? host.top + TITLE_ROWS + host.rows : 0, rightEnd);
    return CONTAINER_COLUMNS.flatMap((col, colIndex) => {
      const tops = col === "left" ? freeTops(this.taken(col), height, 0, limit + GAP_ROWS)
        : freeTops(this.taken(col), height, rightTop, Infinity);
      return tops.map((top) => ({ col, colIndex, top }));
    });
  }

  /** The first row below the outside world's frame. */
  belowOutside() {
    const outside = [...this.live].filter((b) => b.col === "router" || b.col === "edge");
    return Math.max(0, ...outside.map((b) => b.top + TITLE_ROWS + b.rows + OUTSIDE_PAD_ROWS + GAP_ROWS));
  }

  overlaps(box, rows) {
    const end = box.top + TITLE_ROWS + Math.max(box.rows, rows) + GAP_ROWS;
    return [...this.live].some((b) => b.col === box.col && b.top < end && box.top < b.top + TITLE_ROWS + b.rows + GAP_ROWS);
  }

  /** The live boxes of a column as [top, bottom with the gap below], top first. */
  taken(col) {
    return [...this.boxes.values()].filter((b) => b.col === col && this.live.has(b))
      .map((b) => [b.top, b.top + TITLE_ROWS + b.rows + GAP_ROWS]).sort((a, b) => a[0] - b[0]);
  }

  /** The top of the first free stretch of `rows` in a column. */
  firstGap(col, rows) {
    return freeTops(this.taken(col), TITLE_ROWS + rows + GAP_ROWS, 0, Infinity)[0];
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
    const before = this.live || new Set(); // the boxes of the last drawing
    this.live = new Set();
    const rowMaps = new Map();
    const containers = namespaces.filter((ns) => ns.kind === "container");
    for (const ns of namespaces) {
      if (ns.kind === "container") continue;
      rowMaps.set(ns.name, this.assignRows(ns.name, snap.links[ns.name] || []));
      this.live.add(this.place(ns, rowsNeeded(rowMaps.get(ns.name))));
    }
    this.placeContainers(containers, snap, before);
    this.settle();
    // The host's and the containers' rows follow the bands (graph_layout.js), so they are not sticky.
    for (const [name, rows] of this.arrange(this.bands, containers, snap).rows) rowMaps.set(name, rows);

    const centre = (name) => {
      const b = this.boxes.get(name);
      return b ? b.x0 + b.w / 2 : 0;
    };
    const boxes = [];
    const nodes = [];
    const at = new Map(); // "ns/if" -> [x, y]
    this.nodes.clear();
    let bottom = 0;
    let left = Infinity;
    let right = -Infinity;
    for (const ns of namespaces) {
      const box = this.boxes.get(ns.name);
      const y0 = box.top;
      const y1 = box.top + TITLE_ROWS + box.rows;
      bottom = Math.max(bottom, y1);
      left = Math.min(left, box.x0);
      right = Math.max(right, box.x0 + box.w);
      const extra = ns.kind === "container" && ns.containers.length > 1 ? " (" + ns.containers.join(", ") + ")" : "";
      boxes.push({ ns: ns.name, x0: box.x0, x1: box.x0 + box.w, y0, y1, colors: COLORS[ns.kind] || COLORS.outside,
        name: ns.name + extra, kind: ns.kind === "outside" ? "" : namespaceKindText(ns.kind) });
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
        nodes.push({ x, y, key, pos: side === "right" ? "middle left" : "middle right",
          // Label lines, most telling first: a smaller view shows fewer of them.
          lines: ["<b>" + esc(link.name) + "</b>", v4.map(esc).join("<br>"),
            link.kind !== "loopback" ? "<span style=\"color:#6b7280\">" + esc(link.mac) + "</span>" : ""],
          hover: hoverText(ns.name, link, addrs),
          symbol: { bridge: "square", loopback: "diamond", veth: "circle" }[link.kind] || "hexagon",
          color: link.state !== "UP" ? "#9ca3af" : link.operstate === "DOWN" || link.operstate === "LOWERLAYERDOWN" ? "#dc2626" : "#16a34a" });
      }
    }
    // Outside world: one dashed frame around router, remote and client.
    let outside = null;
    const outsideBoxes = namespaces.filter((n) => n.kind === "outside").map((n) => this.boxes.get(n.name));
    if (outsideBoxes.length) {
      const x0 = Math.min(...outsideBoxes.map((b) => b.x0)) - 0.15;
      const x1 = Math.max(...outsideBoxes.map((b) => b.x0 + b.w)) + 0.15;
      const y1 = Math.max(...outsideBoxes.map((b) => b.top + TITLE_ROWS + b.rows)) + OUTSIDE_PAD_ROWS;
      outside = { x0, x1, y1 };
      bottom = Math.max(bottom, y1);
      left = Math.min(left, x0);
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
    return { boxes, nodes, edges, outside, extent: { left, right, bottom } };
  }

  /** Plotly's traces, shapes and annotations of a drawing, with labels as `detail` allows. */
  figure({ boxes, nodes, edges, outside }, sizes) {
    const shapes = [];
    const annotations = [];
    for (const box of boxes) {
      shapes.push({ type: "rect", x0: box.x0, x1: box.x1, y0: -box.y0, y1: -box.y1, fillcolor: box.colors.fill,
        line: { color: box.colors.line, width: 1.5 }, layer: "below" });
      const room = (box.x1 - box.x0 - 0.08) * sizes.sx; // px for the title
      const full = box.kind ? box.name + " " + box.kind : box.name;
      const withKind = ems(full) * sizes.title <= room;
      const font = Math.min(sizes.title, room / ems(box.name));
      if (font < MIN_FONT_PX) continue;
      annotations.push({ x: box.x0 + 0.04, y: -box.y0 - 0.1, xanchor: "left", yanchor: "top", showarrow: false,
        align: "left", text: "<b>" + esc(box.name) + "</b>" + (withKind && box.kind ? " <span style=\"color:#6b7280\">" + esc(box.kind) + "</span>" : ""),
        font: { size: withKind ? sizes.title : font, color: box.colors.line } });
    }
    if (outside) {
      shapes.push({ type: "rect", x0: outside.x0, x1: outside.x1, y0: 0.9, y1: -outside.y1,
        line: { color: "#d97706", width: 1, dash: "dot" }, layer: "below" });
      const caption = gettext("Outside world (simulated internet)");
      const captionFont = Math.min(sizes.note, ((outside.x1 - outside.x0) * sizes.sx) / ems(caption));
      if (captionFont >= MIN_FONT_PX) {
        annotations.push({ x: (outside.x0 + outside.x1) / 2, y: 0.85, yanchor: "bottom", showarrow: false,
          text: "<i>" + esc(caption) + "</i>", font: { size: captionFont, color: "#b45309" } });
      }
    }
    const font = { size: sizes.font, family: "ui-monospace, SFMono-Regular, Menlo, monospace", color: "#1f2937" };
    const text = nodes.map((n) => n.lines.slice(0, sizes.lines).filter(Boolean).join("<br>"));
    const data = [
      { type: "scatter", mode: "lines", name: gettext("veth pair"), x: edges.veth.x, y: edges.veth.y,
        line: { color: "#4b5563", width: 2 }, hoverinfo: "skip" },
      { type: "scatter", mode: "lines", name: gettext("bridge port"), x: edges.port.x, y: edges.port.y,
        line: { color: "#2563eb", width: 1.5, dash: "dash" }, hoverinfo: "skip" },
      { type: "scatter", mode: sizes.lines ? "markers+text" : "markers", name: gettext("interface"),
        x: nodes.map((n) => n.x), y: nodes.map((n) => n.y), text, textposition: nodes.map((n) => n.pos),
        textfont: font, customdata: nodes.map((n) => n.key), hovertext: nodes.map((n) => n.hover), hoverinfo: "text",
        hoverlabel: { align: "left", bgcolor: "#ffffff", bordercolor: "#94a3b8", font: { family: font.family, color: "#111827" } },
        marker: { size: sizes.marker, symbol: nodes.map((n) => n.symbol), color: nodes.map((n) => n.color),
          line: { color: "#fff", width: 1.5 } } },
    ];
    if (this.trail) this.addTrail(data, shapes, boxes, nodes);
    return { data, shapes, annotations, detail: sizes };
  }

  /** The packet walk's trail: the links crossed so far, thick, and the current namespace framed. */
  addTrail(data, shapes, boxes, nodes) {
    const at = new Map(nodes.map((n) => [n.key, [n.x, n.y]]));
    const color = this.trail.dropped ? "#dc2626" : this.trail.reply ? "#7c3aed" : "#ea580c";
    const x = [];
    const y = [];
    for (const [a, b] of this.trail.segments) {
      if (at.has(a) && at.has(b)) {
        x.push(at.get(a)[0], at.get(b)[0], null);
        y.push(at.get(a)[1], at.get(b)[1], null);
      }
    }
    data.push({ type: "scatter", mode: "lines", name: gettext("packet walk"), x, y, hoverinfo: "skip",
      line: { color, width: 5 }, opacity: 0.8 });
    const box = boxes.find((b) => b.ns === this.trail.ns);
    if (box) {
      shapes.push({ type: "rect", x0: box.x0 - 0.03, x1: box.x1 + 0.03, y0: -box.y0 + 0.05, y1: -box.y1 - 0.05,
        line: { color, width: 3.5 }, layer: "above" });
    }
  }

  /** Which edge of its box an interface sits on: towards its peer, bridges in the middle. */
  side(nsName, link, centre) {
    const peer = link.peer_namespace && link.peer_namespace !== nsName ? link.peer_namespace : null;
    if (!peer || link.kind === "bridge" || link.kind === "loopback") return "middle";
    return centre(peer) < centre(nsName) ? "left" : "right";
  }

  bind() {
    if (this.bound) return;
    this.bound = true;
    this.el.on("plotly_click", (ev) => {
      const point = ev.points.find((p) => p.customdata);
      if (point) this.showDetails(point.customdata);
    });
    // The student zoomed or panned (wheel, drag): keep their view from now on.
    this.el.on("plotly_relayout", (ev) => {
      if (!Object.keys(ev).some((k) => k.startsWith("xaxis.range") || k.startsWith("yaxis.range"))) return;
      const x = this.el.layout.xaxis.range;
      const y = this.el.layout.yaxis.range;
      const { w, h } = this.plotSize();
      this.view = { cx: (x[0] + x[1]) / 2, cy: (y[0] + y[1]) / 2, sx: w / (x[1] - x[0]), sy: h / (y[1] - y[0]) };
      this.redraw(); // the labels may say more or less at the new zoom
    });
  }

  /** The details box of one interface (click on a node). */
  showDetails(key) {
    const info = this.nodes.get(key);
    if (!info || !this.detailsEl) return;
    const { link } = info;
    const rows = [
      [gettext("Namespace"), info.ns],
      [gettext("Kind"), linkKindText(link.kind)],
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

/** Rows a namespace's box needs for its interface rows (at least two). */
function rowsNeeded(rows) {
  return Math.max(2, ...[...rows.values()].map((r) => r + 1));
}

/** Each container namespace's bridges (the masters of the host ends of its veths) and creation time. */
function containerInfo(containers, snap) {
  const hostLinks = new Map((snap.links.host || []).map((l) => [l.name, l]));
  const created = new Map();
  for (const c of snap.docker?.containers || []) {
    if (c.namespace && (!created.has(c.namespace) || c.created < created.get(c.namespace))) created.set(c.namespace, c.created);
  }
  return containers.map((ns) => ({
    name: ns.name,
    created: created.get(ns.name) || "",
    bridges: (snap.links[ns.name] || []).filter((l) => l.peer_namespace === "host")
      .map((l) => hostLinks.get(l.peer_name)?.master).filter(Boolean),
  }));
}

function hoverText(ns, link, addrs) {
  const lines = [
    "<b>" + esc(ns + " / " + link.name) + "</b> (" + esc(linkKindText(link.kind)) + ")",
    esc(gettext("State")) + ": " + esc(link.state + " / " + link.operstate) + " · MTU " + link.mtu,
    "MAC: " + esc(link.mac),
  ];
  for (const a of addrs) if (a.ifname === link.name) lines.push(esc(a.address + "/" + a.prefixlen + " " + a.scope));
  if (link.master) lines.push(esc(fmt(gettext("port of bridge %(bridge)s"), { bridge: link.master })) + (link.port_state ? " (" + esc(link.port_state) + ")" : ""));
  if (link.peer_name) lines.push(esc(fmt(gettext("veth peer: %(peer)s"), { peer: (link.peer_namespace || "?") + " / " + link.peer_name })));
  return lines.join("<br>");
}

/** Rough width of `text` in ems: CJK characters are square, Latin ones about CHAR_EM wide. */
function ems(text) {
  let width = 0;
  for (const ch of text) width += ch.codePointAt(0) >= 0x2e80 ? 1 : CHAR_EM;
  return width;
}

/** Text sizes at a view of `sx` px per unit and `sy` px per row: smaller views say less. */
function detail({ sx, sy }, fontScale) {
  // Interface labels: a line is ~1.25 ems high; the widest lines (a MAC address, a bridge's name) are
  // ~10 ems wide in a box of ~1.4 units.
  const font = Math.min(FONT_PX * fontScale, sy / 1.3, sx / 6.2);
  let lines = 0;
  if (font >= MIN_FONT_PX) lines = sy >= 3.75 * font && sx >= 7.3 * font ? 3 : sy >= 2.5 * font && sx >= 6.9 * font ? 2 : 1;
  const round = (v) => Math.round(v * 10) / 10;
  return {
    sx,
    font: round(font),
    lines,
    title: round(Math.min(TITLE_PX * fontScale, sy * TITLE_ROWS * 0.7)),
    note: round(Math.min(NOTE_PX * fontScale, sy * 0.45)),
    marker: round(Math.max(5, Math.min(MARKER_PX * fontScale, sy * 0.45))),
  };
}
