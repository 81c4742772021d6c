// Where the topology graph puts containers and the Docker host's interfaces, so that veth lines do
// not cross (pure functions; graph.js draws).
//
// Containers stand in two columns, left and right of the host box. A host veth sits on the edge of
// the host box that faces its container. Inside the box the interfaces are grouped in bands, one per
// bridge: the bridge's row, then its ports. Bands are ordered by the mean height of their ports'
// containers (barycentric ordering), and a band's ports by their container's height. So the veth
// lines of one side cross only where that side's containers stand out of their bridges' order, and
// bridge-port lines (inside a band) never cross.
//
// Containers keep their place (graph.js); a new one takes the free place where its lines cross the
// fewest others, among equally good places the highest. Several new ones (a page opened on a busy
// lab) are placed in the preferred order: by the mean position of their bridges (bridges ordered so
// that a container on two of them sits between them), then by creation time, then by name.

const MAX_PERMUTED = 6; // up to this many bridges, try every order of them; beyond, keep first-seen

/** Bridges in the order that keeps containers' bridges close: the least total span (the distance
 *  between a container's first and last bridge), ties broken by first-seen order (`bridges`).
 *  `memberships`: for each container, the names of its bridges. */
export function bridgeOrder(bridges, memberships) {
  if (bridges.length > MAX_PERMUTED) return [...bridges];
  const span = (order) => {
    const at = new Map(order.map((b, i) => [b, i]));
    let total = 0;
    for (const names of memberships) {
      const idx = names.filter((n) => at.has(n)).map((n) => at.get(n));
      if (idx.length > 1) total += Math.max(...idx) - Math.min(...idx);
    }
    return total;
  };
  let best = [...bridges];
  let bestSpan = span(best);
  // Permutations in lexicographic order of first-seen indices: the first of equal spans wins.
  for (const order of permutations(bridges)) {
    const s = span(order);
    if (s < bestSpan) [best, bestSpan] = [order, s];
  }
  return best;
}

function* permutations(items) {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i += 1) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i], ...tail];
  }
}

/** Container names in the preferred order: by the mean index of their bridges in `order` (none:
 *  last), then `created`, then name. `containers`: [{name, bridges, created}]. */
export function preferredOrder(containers, order) {
  const at = new Map(order.map((b, i) => [b, i]));
  const key = (c) => {
    const idx = c.bridges.filter((b) => at.has(b)).map((b) => at.get(b));
    return idx.length ? idx.reduce((a, b) => a + b, 0) / idx.length : Infinity;
  };
  return [...containers]
    .map((c) => ({ c, k: key(c) }))
    .sort((a, b) => a.k - b.k || cmp(a.c.created || "", b.c.created || "") || cmp(a.c.name, b.c.name))
    .map(({ c }) => c.name);
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The row of each host interface. `links`: the host's links ({name, kind, master, ifindex});
 *  `ports`: host interface name -> {y, side} for the veths whose container is placed (y: the height
 *  of the container's end); `order`: the bridges' bands, top first. First the interfaces of neither
 *  a bridge nor a container (lo first, then by ifindex), then the bands: the bridge, then its ports
 *  by height. */
export function hostRows(links, ports, order) {
  const bridges = links.filter((l) => l.kind === "bridge");
  const bridgeNames = new Set(bridges.map((b) => b.name));
  const inBand = (l) => bridgeNames.has(l.master) || (l.kind !== "bridge" && ports.has(l.name));
  const others = links.filter((l) => l.kind !== "bridge" && !inBand(l))
    .sort((a, b) => (b.kind === "loopback") - (a.kind === "loopback") || a.ifindex - b.ifindex);
  const portY = (l) => (ports.has(l.name) ? ports.get(l.name).y : Infinity);
  const byHeight = (a, b) => portY(a) - portY(b) || a.ifindex - b.ifindex;
  const rank = (b) => (order.includes(b.name) ? order.indexOf(b.name) : order.length);
  const bands = bridges.sort((a, b) => rank(a) - rank(b) || a.ifindex - b.ifindex)
    .flatMap((bridge) => [bridge, ...links.filter((l) => l.master === bridge.name).sort(byHeight)]);
  // Container veths on no bridge (a student's `ip link set ... nomaster`): a band of their own, last.
  const loose = links.filter((l) => !bridgeNames.has(l.master) && l.kind !== "bridge" && inBand(l)).sort(byHeight);
  return new Map([...others, ...bands, ...loose].map((l, i) => [l.name, i]));
}

/** A container's interface rows: its veths to the host last, in their bridges' `order` (so that a
 *  container's own lines do not cross), the others first as listed. `bridgeOf(link)`: the bridge
 *  of a veth's host end, undefined for other links. */
export function containerRows(links, bridgeOf, order) {
  const rank = (l) => {
    const bridge = bridgeOf(l);
    if (bridge === undefined) return -1;
    return order.includes(bridge) ? order.indexOf(bridge) : order.length;
  };
  const sorted = links.map((l, i) => ({ l, i })).sort((a, b) => rank(a.l) - rank(b.l) || a.i - b.i);
  return new Map(sorted.map(({ l }, row) => [l.name, row]));
}

/** The bands' order: `start` unless another order of the same bridges has fewer crossings
 *  (`cost(order)`); among equals, the first in lexicographic order of `start`'s indices. */
export function bandOrder(start, cost) {
  let best = start;
  let bestCost = cost(start);
  if (bestCost === 0 || start.length > MAX_PERMUTED) return best;
  for (const order of permutations(start)) {
    const c = cost(order);
    if (c < bestCost) [best, bestCost] = [order, c];
    if (bestCost === 0) break;
  }
  return best;
}

/** How many pairs of veth lines cross: on each side of the host box, the pairs whose order by
 *  container height differs from their order by host row. */
export function crossings(rows, ports) {
  const sides = new Map();
  for (const [name, { y, side }] of ports) {
    if (!rows.has(name)) continue;
    if (!sides.has(side)) sides.set(side, []);
    sides.get(side).push([y, rows.get(name)]);
  }
  let count = 0;
  for (const ends of sides.values()) {
    for (let i = 0; i < ends.length; i += 1) {
      for (let j = i + 1; j < ends.length; j += 1) {
        if ((ends[i][0] - ends[j][0]) * (ends[i][1] - ends[j][1]) < 0) count += 1;
      }
    }
  }
  return count;
}

/** The free tops of a column for a box `height` high: the top of every gap between the `taken`
 *  spans ([start, end], sorted) that it fits, and the end, from `start` on; the end only while
 *  it stays above `limit` (or the column is empty). */
export function freeTops(taken, height, start, limit) {
  const tops = [];
  let top = start;
  for (const [s, e] of taken) {
    if (top + height <= s) tops.push(top);
    top = Math.max(top, e);
  }
  if (!taken.length || top + height <= limit) tops.push(top);
  return tops;
}

/** The place a new container takes: of the `candidates` ({top, colIndex, ...}), the one with the
 *  fewest crossings (`cost(candidate)`), then the highest (the columns grow evenly, and gaps fill
 *  first), then the leftmost. */
export function choosePlace(candidates, cost) {
  let best = null;
  let bestKey = null;
  for (const c of candidates) {
    const key = [cost(c), c.top, c.colIndex];
    if (!bestKey || less(key, bestKey)) [best, bestKey] = [c, key];
  }
  return best;
}

function less(a, b) {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
