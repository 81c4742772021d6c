"""The lab page's topology graph places containers by their bridges: with containers on several
networks (one on two of them) no veth line crosses another and no bridge-port line crosses another,
a new or removed container moves no other container, and the page reads at desktop and phone sizes,
in English and in Chinese. Then the layout's pure functions, in chromium."""

from __future__ import annotations

import pytest

from tests.browser.test_graph_fit import docker, new_lab

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

SIZES = [(1440, 900), (1280, 720), (390, 844)]
# The drawn graph: its veth and bridge-port segments (Plotly's first two traces, [x1, y1, x2, y2]),
# and each interface node's position by "namespace/interface" (the trace whose points carry keys).
DRAWN = """() => { const g = document.getElementById('graph');
  const segments = (t) => { const out = [];
    for (let i = 0; i + 1 < t.x.length; i += 3) out.push([t.x[i], t.y[i], t.x[i + 1], t.y[i + 1]]);
    return out; };
  const nodes = g.data.find((t) => t.customdata);
  const at = {};
  nodes.customdata.forEach((key, i) => { at[key] = [nodes.x[i], nodes.y[i]]; });
  return { veth: segments(g.data[0]), ports: segments(g.data[1]), at,
    containers: window.nslab.snapshot.namespaces.filter((n) => n.kind === 'container').map((n) => n.name) };
}"""
# The page drew the newest snapshot, and that snapshot has the container namespaces `names`, each
# with as many veths as given.
DRAWN_WITH = """(want) => { const s = window.nslab && window.nslab.snapshot;
  return !!s && Object.entries(want).every(([name, n]) =>
      (s.links[name] || []).filter((l) => l.kind === 'veth').length === n)
    && document.getElementById('graph').dataset.drawnSeq === String(window.nslab.seq); }"""
# The page drew the newest snapshot, which lacks the namespace `name`.
GONE = """(name) => { const s = window.nslab && window.nslab.snapshot;
  return !!s && !s.namespaces.some((n) => n.name === name)
    && document.getElementById('graph').dataset.drawnSeq === String(window.nslab.seq); }"""
RENDERED_AT_CARD_SIZE = """() => { const g = document.getElementById('graph');
  const svg = g.querySelector('svg.main-svg');
  return !!svg && Math.abs(svg.getBoundingClientRect().width - g.clientWidth) < 1
    && Math.abs(svg.getBoundingClientRect().height - g.clientHeight) < 1; }"""


def cross(s, t) -> bool:
    """Whether two segments cross at a point inside both (touching at an end point does not count)."""

    def orient(a, b, c) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    p, q, r, u = (s[0], s[1]), (s[2], s[3]), (t[0], t[1]), (t[2], t[3])
    if {p, q} & {r, u}:
        return False
    d1, d2, d3, d4 = orient(r, u, p), orient(r, u, q), orient(p, q, r), orient(p, q, u)
    return d1 * d2 < 0 and d3 * d4 < 0


def crossing_pairs(segments) -> list:
    return [(s, t) for i, s in enumerate(segments) for t in segments[i + 1 :] if cross(s, t)]


def assert_untangled(drawn, when: str) -> None:
    assert len(drawn["veth"]) >= 6, drawn["veth"]  # five containers, one of them on two networks
    veth, ports = crossing_pairs(drawn["veth"]), crossing_pairs(drawn["ports"])
    assert not veth, f"{when}: veth lines cross: {veth}; nodes at {drawn['at']}"
    assert not ports, f"{when}: bridge-port lines cross: {ports}"


def container_nodes(drawn, names) -> dict:
    return {k: v for k, v in drawn["at"].items() if k.split("/")[0] in names}


def test_containers_stand_by_their_bridges_and_stay_put(lab_server, student_page, browser, artifacts):
    page, page_errors = student_page
    try:
        host = new_lab(page, lab_server)
        docker(host, "network", "create", "a")
        docker(host, "network", "create", "b")
        docker(host, "run", "-d", "--name", "x1", "--network", "a", "nginx")
        docker(host, "run", "-d", "--name", "y1", "--network", "b", "nginx")
        docker(host, "run", "-d", "--name", "x2", "--network", "a", "busybox", "sleep", "600")
        docker(host, "network", "connect", "b", "x1")
        docker(host, "run", "-d", "--name", "d1", "busybox", "sleep", "600")  # the default bridge
        want = {"x1": 2, "y1": 1, "x2": 1, "d1": 1}
        page.wait_for_function(DRAWN_WITH, arg=want, timeout=60_000)
        before = page.evaluate(DRAWN)
        assert_untangled(before, "as built one by one")
        page.screenshot(path=artifacts / "graph-layout-1440x900.png")

        # One more container on b: no other container's node moves, and still nothing crosses.
        docker(host, "run", "-d", "--name", "y2", "--network", "b", "nginx")
        page.wait_for_function(DRAWN_WITH, arg={**want, "y2": 1}, timeout=60_000)
        after = page.evaluate(DRAWN)
        assert_untangled(after, "after y2")
        assert container_nodes(after, want) == container_nodes(before, want)
        page.screenshot(path=artifacts / "graph-layout-added-1440x900.png")

        # One container removed: the others stay too.
        docker(host, "rm", "-f", "y1")
        page.wait_for_function(GONE, arg="y1", timeout=60_000)
        removed = page.evaluate(DRAWN)
        kept = {**want, "y2": 1}
        del kept["y1"]
        assert container_nodes(removed, kept) == container_nodes(after, kept)
        veth = crossing_pairs(removed["veth"])
        assert not veth, veth
        docker(host, "run", "-d", "--name", "y1", "--network", "b", "nginx")

        # A page opened now places all six at once: untangled too, at every size, in both languages.
        for language in ("en", "zh-hans"):
            cookie = {"name": "django_language", "value": language, "url": lab_server.base_url}
            page.context.add_cookies([cookie])
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                page.reload()
                page.wait_for_function(DRAWN_WITH, arg={**want, "y2": 1}, timeout=60_000)
                page.wait_for_function(RENDERED_AT_CARD_SIZE, timeout=10_000)
                assert_untangled(page.evaluate(DRAWN), f"{language} {width}x{height}")
                page.locator("#graph").scroll_into_view_if_needed()
                page.mouse.move(0, 0)
                page.screenshot(path=artifacts / f"graph-layout-{language}-{width}x{height}.png")
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "graph-layout-failed.png", full_page=True)
        raise


# The layout's pure functions (frontend/src/labs/graph_layout.js), run in chromium as the page runs them.
LAYOUT_CASES = """async () => {
  const m = await import('/static/labs/graph_layout.js');
  const link = (name, kind, master, ifindex) => ({ name, kind, master, ifindex });
  const host = [link('lo', 'loopback', null, 1), link('eth0', 'veth', null, 2),
    link('docker0', 'bridge', null, 3), link('br-a', 'bridge', null, 4), link('br-b', 'bridge', null, 5),
    link('va', 'veth', 'br-a', 6), link('vb', 'veth', 'br-b', 7), link('vx', 'veth', 'br-a', 8),
    link('vy', 'veth', 'br-b', 9)];
  const ports = (list) => new Map(list.map(([name, y, side]) => [name, { y, side }]));
  // x on a and b at the top of the left column, then y on b; z on a in the right column.
  const p = ports([['va', 2, 'left'], ['vb', 3, 'left'], ['vy', 7, 'left'], ['vx', 5, 'right']]);
  const rows = m.hostRows(host, p, ['docker0', 'br-a', 'br-b']);
  const swapped = m.hostRows(host, p, ['docker0', 'br-b', 'br-a']);
  const cost = (order) => m.crossings(m.hostRows(host, p, order), p);
  return {
    // A container on two bridges: between them; the bridge of none: kept in first-seen order.
    bridges: m.bridgeOrder(['docker0', 'a', 'b', 'c'], [['a'], ['a', 'c'], ['b'], ['c']]),
    preferred: m.preferredOrder([{ name: 'y', bridges: ['c'], created: '2' },
      { name: 'x', bridges: ['a', 'c'], created: '1' }, { name: 'w', bridges: ['a'], created: '3' },
      { name: 'none', bridges: [], created: '0' }], ['docker0', 'a', 'c', 'b']),
    rows: [...rows.keys()],
    crossings: m.crossings(rows, p),
    swappedCrossings: m.crossings(swapped, p),
    // The bands' order changes only to untangle: from [br-b, br-a] to the order without crossings.
    untangled: m.bandOrder(['docker0', 'br-b', 'br-a'], cost),
    kept: m.bandOrder(['docker0', 'br-a', 'br-b'], cost),
    ownRows: [...m.containerRows([{ name: 'lo' }, { name: 'eth0' }, { name: 'eth1' }],
      (l) => ({ eth0: 'br-b', eth1: 'br-a' })[l.name], ['br-a', 'br-b']).entries()],
    tops: m.freeTops([[0, 4], [8, 12]], 3.8, 0, 20),
    full: m.freeTops([[0, 4], [8, 12]], 3.8, 0, 14),
    place: m.choosePlace([{ top: 12, colIndex: 0 }, { top: 4, colIndex: 0 }, { top: 4, colIndex: 1 },
      { top: 0, colIndex: 1 }], (c) => (c.top === 0 ? 1 : 0)),
  };
}"""


def test_layout_functions(lab_server, browser):
    page = browser.new_page()
    try:
        page.goto(lab_server.base_url + "/")
        got = page.evaluate(LAYOUT_CASES)
    finally:
        page.close()
    assert got["bridges"] == ["docker0", "a", "c", "b"]
    assert got["preferred"] == ["w", "x", "y", "none"]  # by their bridges' mean position; none last
    # lo and eth0 first, then one band per bridge: the bridge, then its ports by their containers' height.
    assert got["rows"] == ["lo", "eth0", "docker0", "br-a", "va", "vx", "br-b", "vb", "vy"]
    assert got["crossings"] == 0
    assert got["swappedCrossings"] == 2  # vb and vy above va: the left side's order broken twice
    assert got["untangled"] == ["docker0", "br-a", "br-b"]
    assert got["kept"] == ["docker0", "br-a", "br-b"]
    assert got["ownRows"] == [["lo", 0], ["eth1", 1], ["eth0", 2]]  # the veth on br-a above the one on br-b
    assert got["tops"] == [4, 12]  # the gap that fits, then the end
    assert got["full"] == [4]  # the end is past the limit
    assert got["place"] == {"top": 4, "colIndex": 0}  # untangled, highest, leftmost
