"""The lab page in a real browser against a real server: log in, open a lab, docker run, see it live."""

from __future__ import annotations

import os
import subprocess

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

# Text lines of the drawn graph (Plotly's SVG): one per <tspan class="line">, else the whole <text>.
GRAPH_LINES = """() => Array.from(document.querySelectorAll('#graph svg text')).flatMap((t) => {
  const lines = t.querySelectorAll('tspan.line');
  return lines.length ? Array.from(lines, (l) => l.textContent) : [t.textContent];
})"""
TERMINAL_TEXT = """() => { const b = nslab.terminal.term.buffer.active; const out = [];
  for (let i = 0; i < b.length; i++) out.push(b.getLine(i).translateToString(true).trimEnd());
  return out.join('\\n').trim(); }"""
# The host end of the veth pair whose peer is in the container `web`, once the snapshot has it.
WEB_VETH = """() => { const s = window.nslab && window.nslab.snapshot;
  const link = s && (s.links.host || []).find((l) => l.peer_namespace === 'web' && l.kind === 'veth');
  return link ? link.name : null; }"""
DNAT = "--to-destination 172.17.0.2:80"


def root_netns_links() -> set[str]:
    """The interface names of the machine's own network namespace (this process's)."""
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if line.strip()}


def wait_for_graph(page, lines: list[str], prefixes: list[str], *, timeout_ms: int = 30_000) -> None:
    """Wait until the drawn graph has each of `lines`, and for each of `prefixes` a line that starts
    with it or is it without its trailing space (a box title drops its kind word when space is short)."""
    page.wait_for_function(
        f"""([lines, prefixes]) => {{ const drawn = ({GRAPH_LINES})();
          return lines.every((l) => drawn.includes(l))
            && prefixes.every((p) => drawn.some((d) => d.startsWith(p) || d === p.trimEnd()));
        }}""",
        arg=[lines, prefixes],
        timeout=timeout_ms,
    )


def test_student_runs_a_published_container_and_watches_it_appear(lab_server, student_page, artifacts):
    links_before = root_netns_links()
    page, page_errors = student_page
    try:
        page.click("form.inline button[type=submit]")  # New lab
        page.wait_for_url("**/labs/*/")
        page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=60_000)
        wait_for_graph(page, ["docker0"], ["host "])
        page.screenshot(path=artifacts / "lab-1-ready.png")

        # The shell is there when its prompt is.
        page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=30_000)
        page.click("#terminal")
        page.keyboard.type("docker run -d --name web -p 8080:80 nginx")
        page.keyboard.press("Enter")

        veth = page.wait_for_function(WEB_VETH, timeout=60_000).json_value()
        wait_for_graph(page, [veth], ["web "])
        page.screenshot(path=artifacts / "lab-2-container.png")

        page.click("#tab-rules")
        page.locator("#panel-rules").get_by_text(DNAT).first.wait_for(timeout=30_000)
        # Traffic through the published port: the DNAT rule's packet counter ticks on the page.
        (sandbox,) = lab_server.sandboxes()
        with open(os.devnull, "wb") as null:
            fetch = ["curl", "-s", "-m", "3", "-o", "/dev/null", "http://203.0.113.2:8080/"]
            lab_server.client().exec(sandbox["id"], fetch, ns="client", stdio=(null.fileno(),) * 3)
        dnat_counter_moved = (
            "(dnat) => [...document.querySelectorAll('#panel-rules tr')]"
            ".some(tr => tr.textContent.includes(dnat) && tr.cells[1].textContent.trim() !== '0')"
        )
        page.wait_for_function(
            dnat_counter_moved,
            arg=DNAT,
            timeout=30_000,
        )
        page.screenshot(path=artifacts / "lab-3-rules.png", full_page=True)
        assert not page_errors, page_errors

        # Stop the lab from the page: its sandbox goes away.
        page.click("button[data-action=stop]")
        page.wait_for_function(
            "() => document.getElementById('lab').dataset.status === 'stopped'", timeout=60_000
        )
        assert lab_server.sandboxes() == []
    except Exception:
        page.screenshot(path=artifacts / "lab-failed.png", full_page=True)
        raise
    assert root_netns_links() <= links_before, "the test left interfaces in the machine's namespace"


def test_docker_28_lab_shows_its_ip6tables_chains(student_page, artifacts):
    page, page_errors = student_page
    try:
        page.select_option("#new-docker-version", "28")
        page.click("form.inline button[type=submit]")  # New lab
        page.wait_for_url("**/labs/*/")
        page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=60_000)
        page.click("#tab-rules")
        tables = page.locator("#panel-rules select[data-table] option")
        assert "filter (IPv6)" in tables.all_text_contents()
        page.select_option("#panel-rules select[data-table]", "ip6:filter")
        page.locator("#panel-rules h3", has_text="DOCKER-USER").wait_for(timeout=10_000)
        assert page.locator("#panel-rules").get_by_text("Other nftables rules").count() == 0
        # IPv6 rows are not offered to "pick a rule" (exercises ask about IPv4 rules).
        assert page.locator("#panel-rules tr[data-rule]").count() == 0
        page.screenshot(path=artifacts / "lab-28-ip6tables.png", full_page=True)
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "lab-28-failed.png", full_page=True)
        raise
