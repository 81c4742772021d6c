"""The lab page's topology graph fits its card: 10 containers on three networks, at desktop and phone
sizes, zoomed to fit on resize and on topology changes unless the student zoomed, refitted by "Fit"."""

from __future__ import annotations

import pytest

from topology.client import ClientAccess

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

NETWORKS = {"front": 4, "back": 3, "db": 3}  # user-defined networks and how many containers each has
# Smallest first: each step grows the card.
SIZES = [(390, 844), (1280, 720), (1440, 900)]

# Bounding boxes (client pixels) of the card, the drawn namespace boxes (Plotly's shapes), the box
# titles (annotations) and the interface labels, and Plotly's current axis ranges.
GEOMETRY = """() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const text = (e) => ({ text: e.textContent, box: box(e) });
  const graph = document.getElementById('graph');
  return {
    card: box(graph.closest('.card')),
    area: box(graph),
    svg: box(graph.querySelector('svg.main-svg')),
    shapes: Array.from(graph.querySelectorAll('.shapelayer path'), box),
    titles: Array.from(graph.querySelectorAll('g.annotation'), text),
    labels: Array.from(graph.querySelectorAll('g.textpoint text'), text),
    ranges: [graph.layout.xaxis.range.slice(), graph.layout.yaxis.range.slice()],
    view: graph.dataset.view,
  };
}"""
# The page drew the newest snapshot, and that snapshot has the namespace `name`.
DRAWN_WITH = """(name) => { const s = window.nslab && window.nslab.snapshot;
  return !!s && s.namespaces.some((n) => n.name === name)
    && document.getElementById('graph').dataset.drawnSeq === String(window.nslab.seq); }"""
# Some interface label of the graph has `part` in its text.
LABELS_WITH = """(part) => Array.from(document.querySelectorAll('#graph g.textpoint text'))
  .some((t) => t.textContent.includes(part))"""
# The graph's view is the student's and stayed the same since the last poll (a wheel zoom is applied
# in steps, after Plotly's redraw delay).
STEADY_STUDENT_VIEW = """() => { const g = document.getElementById('graph');
  const seen = JSON.stringify([g.layout.xaxis.range, g.layout.yaxis.range]);
  const steady = window.graphFitLastView === seen;
  window.graphFitLastView = seen;
  return steady && g.dataset.view === 'student'; }"""
# The graph was rendered at the card's current size.
RENDERED_AT_CARD_SIZE = """() => { const g = document.getElementById('graph');
  const svg = g.querySelector('svg.main-svg');
  return !!svg && Math.abs(svg.getBoundingClientRect().width - g.clientWidth) < 1
    && Math.abs(svg.getBoundingClientRect().height - g.clientHeight) < 1; }"""


def inside(inner, outer, slack: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def overlap(a, b) -> float:
    """The share of the smaller of two boxes that the other covers (0 to 1)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def shown_width(geometry) -> float:
    """How many horizontal units of the drawing the graph shows (smaller: zoomed in)."""
    left, right = geometry["ranges"][0]
    return right - left


def docker(host: ClientAccess, *args: str) -> None:
    code, out, err = host.run("host", ["docker", *args], timeout=30)
    assert code == 0, (args, out, err)


def new_lab(page, lab_server) -> ClientAccess:
    """The student opens a new lab at 1440x900; the first graph is drawn; its sandbox, as the student."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.click("form.inline button[type=submit]")  # New lab
    page.wait_for_url("**/labs/*/")
    page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=60_000)
    (sandbox,) = lab_server.sandboxes()
    return ClientAccess(sandbox["id"], lab_server.client())


def union_area(boxes) -> float:
    return (max(b[2] for b in boxes) - min(b[0] for b in boxes)) * (
        max(b[3] for b in boxes) - min(b[1] for b in boxes)
    )


def assert_fits_and_reads(geometry, size) -> None:
    """Every namespace box and text inside the graph's area of the card; no text drawn over another."""
    area = geometry["area"]
    assert inside(area, geometry["card"]), (area, geometry["card"])
    assert len(geometry["shapes"]) >= 15, geometry["shapes"]  # host, outside world, 10 containers...
    outside = [s for s in geometry["shapes"] if not inside(s, area)]
    assert not outside, f"{size}: namespace boxes outside the card's graph area {area}: {outside}"
    texts = geometry["titles"] + geometry["labels"]
    assert len(geometry["titles"]) >= 14, f"{size}: box titles missing: {geometry['titles']}"
    cut = [t for t in texts if not inside(t["box"], area)]
    assert not cut, f"{size}: text outside the card's graph area {area}: {cut}"
    crowded = [
        (a["text"], b["text"], round(overlap(a["box"], b["box"]), 2))
        for i, a in enumerate(texts)
        for b in texts[i + 1 :]
        if overlap(a["box"], b["box"]) > 0.25
    ]
    assert not crowded, f"{size}: texts drawn over each other: {crowded}"


def test_graph_fits_its_card_at_every_size_and_keeps_the_students_zoom(lab_server, student_page, artifacts):
    page, page_errors = student_page
    try:
        host = new_lab(page, lab_server)
        for network in NETWORKS:
            docker(host, "network", "create", network)
        number = 0
        for network, count in NETWORKS.items():
            for _ in range(count):
                docker(host, "run", "-d", "--name", f"app{number}", "--network", network, "nginx")
                number += 1
        docker(host, "network", "connect", "back", "app0")  # one container on two networks
        page.wait_for_function(DRAWN_WITH, arg=f"app{number - 1}", timeout=60_000)

        before = None
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function(RENDERED_AT_CARD_SIZE, timeout=10_000)
            geometry = page.evaluate(GEOMETRY)
            assert geometry["view"] == "fit"
            page.screenshot(path=artifacts / f"graph-fit-{width}x{height}.png")
            assert_fits_and_reads(geometry, (width, height))
            if before is not None:  # the card grew: so did the graph and its drawing
                assert geometry["svg"][2] - geometry["svg"][0] > before["svg"][2] - before["svg"][0]
                assert union_area(geometry["shapes"]) > union_area(before["shapes"])
            before = geometry

        # The student zooms in with the wheel: the labels say more (addresses), and a new container
        # does not undo the zoom.
        svg = before["svg"]
        page.mouse.move((svg[0] + svg[2]) / 2, (svg[1] + svg[3]) / 2)
        assert not any("172." in label["text"] for label in before["labels"])
        for _ in range(12):
            page.mouse.wheel(0, -100)
        page.wait_for_function(STEADY_STUDENT_VIEW, polling=800, timeout=20_000)
        page.wait_for_function(LABELS_WITH, arg="172.", timeout=10_000)
        zoomed = page.evaluate(GEOMETRY)
        assert shown_width(zoomed) < shown_width(before) / 2
        page.screenshot(path=artifacts / "graph-fit-zoomed.png")
        docker(host, "run", "-d", "--name", "late", "--network", "db", "nginx")
        page.wait_for_function(DRAWN_WITH, arg="late", timeout=60_000)
        after = page.evaluate(GEOMETRY)
        assert after["view"] == "student"
        assert after["ranges"][0] == pytest.approx(zoomed["ranges"][0])
        assert after["ranges"][1] == pytest.approx(zoomed["ranges"][1])

        # "Fit" (from the keyboard) shows everything again, the new container too.
        fit = page.get_by_role("button", name="Fit")
        fit.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#graph[data-view=fit]", state="attached", timeout=10_000)
        refitted = page.evaluate(GEOMETRY)
        assert shown_width(refitted) > shown_width(zoomed)
        assert any(t["text"].startswith("late") for t in refitted["titles"]), refitted["titles"]
        assert_fits_and_reads(refitted, "after Fit")
        page.mouse.move(0, 0)  # no hover label in the picture
        page.screenshot(path=artifacts / "graph-fit-refit.png")

        # The zoom buttons: "Zoom in" makes it the student's view, "Fit" fits again.
        page.get_by_role("button", name="Zoom in").click()
        page.wait_for_selector("#graph[data-view=student]", state="attached", timeout=10_000)
        assert shown_width(page.evaluate(GEOMETRY)) == pytest.approx(shown_width(refitted) / 1.5)
        fit.click()
        page.wait_for_selector("#graph[data-view=fit]", state="attached", timeout=10_000)
        assert page.evaluate(GEOMETRY)["ranges"][0] == pytest.approx(refitted["ranges"][0])

        # Large text (for projectors): still inside the card, still readable.
        page.click("#font-toggle")
        page.wait_for_selector("#graph[data-font-scale='1.35']", state="attached", timeout=10_000)
        page.wait_for_function(RENDERED_AT_CARD_SIZE, timeout=10_000)
        assert_fits_and_reads(page.evaluate(GEOMETRY), "large text")
        page.screenshot(path=artifacts / "graph-fit-large-text.png")
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "graph-fit-failed.png", full_page=True)
        raise
