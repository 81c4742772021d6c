"""The packet walk on the lab page, in a real browser against a real server: trace a packet from
the client to a published port, watch the graph light its path step by step, read a step's
explanation; the panel at a desktop, a laptop and a phone size."""

from __future__ import annotations

import os

import pytest

from tests.polling import wait_for
from topology.client import ClientAccess

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

# Every value the graph's trail took (trace.js sets data-trail at each step), recorded in the page.
RECORD_TRAIL = """() => { window.trailSeen = [];
  new MutationObserver(() => window.trailSeen.push(document.getElementById('graph').dataset.trail))
    .observe(document.getElementById('graph'), { attributes: true, attributeFilter: ['data-trail'] }); }"""
# The graph's drawing is as wide as its card again after a resize.
REFITTED = """() => { const svg = document.querySelector('#graph svg.main-svg');
  return svg && Math.abs(svg.width.baseVal.value - document.getElementById('graph').clientWidth) < 2; }"""
SIZES = {"desktop": (1440, 900), "laptop": (1280, 720), "phone": (390, 844)}


def test_trace_from_the_page(lab_server, student_page, artifacts):
    page, page_errors = student_page
    try:
        page.click("form.inline button[type=submit]")  # New lab
        page.wait_for_url("**/labs/*/")
        page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=60_000)
        (sandbox,) = lab_server.sandboxes()
        with open(os.devnull, "wb") as null:
            run = ["docker", "run", "-d", "--name", "web", "-p", "8080:80", "nginx"]
            assert lab_server.client().exec(sandbox["id"], run, stdio=(null.fileno(),) * 3) == 0
        page.wait_for_function("() => nslab.snapshot?.namespaces.some((n) => n.name === 'web')")

        page.click("#trace-toggle")
        page.select_option("#trace select[name=source]", "client")
        page.fill("#trace input[name=to]", "203.0.113.2")
        page.fill("#trace input[name=port]", "8080")
        page.evaluate(RECORD_TRAIL)
        page.click("#trace button[type=submit]")
        page.wait_for_selector("#trace[data-state=shown]", timeout=30_000)
        assert page.inner_text("#trace .trace-verdict").strip() == "delivered"

        # The graph animates: the trail grows step by step until the last step (the reply's).
        page.wait_for_function(
            "() => { const n = document.querySelectorAll('#trace .trace-steps li').length;"
            " return document.querySelector('#trace .trace-count').textContent === `Step ${n} of ${n}`; }",
            timeout=30_000,
        )
        seen = page.evaluate("window.trailSeen")
        counts = [int(v.split(":")[0]) for v in seen if v]
        assert len(set(counts)) >= 3 and counts == sorted(counts), seen
        assert seen[-1].endswith(":client")  # the reply is back where it started

        # A step explains itself: the DNAT, with the addresses before and after.
        page.click("#trace .trace-steps li.nat >> nth=0")
        explain = page.inner_text("#trace .trace-explain")
        assert explain == (
            "DNAT in host: the destination 203.0.113.2:8080 becomes 172.17.0.2:80; "
            "conntrack remembers it for the reply."
        )
        assert page.get_attribute("#graph", "data-trail").endswith(":host")
        page.click("#trace [data-step='1']")
        assert page.inner_text("#trace .trace-explain") != explain

        # Armed: nothing is sent; the student's own request from the client is walked.
        page.evaluate("() => { document.getElementById('trace').dataset.state = ''; }")
        page.click("#trace [data-arm]")
        page.wait_for_selector("#trace[data-state=armed]")
        student = ClientAccess(sandbox["id"], lab_server.client())
        # Armed once the source's trace table marks packets (the other namespaces' do by then).
        wait_for(lambda: "nftrace" in student.run("client", ["nft", "list", "ruleset"])[1], what="armed")
        student.run("client", ["curl", "-s", "-o", "/dev/null", "http://203.0.113.2:8080/"])
        page.wait_for_selector("#trace[data-state=shown]", timeout=30_000)
        assert page.inner_text("#trace .trace-verdict").strip() == "delivered"
        page.click("#trace .trace-steps li.nat >> nth=0")  # the screenshots show the DNAT step

        for name, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function(REFITTED)  # the graph refits to its card (a resize observer)
            page.screenshot(path=artifacts / f"trace-{name}.png", full_page=name == "phone")
            box = page.locator("#trace .trace-explain").bounding_box()
            assert box and box["width"] > 150 and box["x"] + box["width"] <= width + 1
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "trace-failed.png", full_page=True)
        raise
