"""What the lab page tells a student, in a real browser: a passed task after a reload and a new Check,
course texts with their code, Stop's warning and the stopped overlay, the Docker panel's COMMAND, a
wrong answer explained, and the Chinese labels of the Interfaces panel and the graph."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_lab_page import GRAPH_LINES, TERMINAL_TEXT

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

VIEWPORTS = {"1440": (1440, 900), "1280": (1280, 720), "390": (390, 844)}
CHECKED = "() => document.getElementById('exercise-check-status').textContent.startsWith('Checked')"
DRAWN = "#graph[data-drawn-seq]"


def shots(page, artifacts, name: str, selector: str | None = None) -> None:
    """Screenshots of the page (or of one element) at the three sizes the page is designed for."""
    for label, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        if selector:
            page.locator(selector).scroll_into_view_if_needed()
        page.screenshot(path=artifacts / f"feedback-{name}-{label}.png")
    page.set_viewport_size({"width": 1600, "height": 1000})


def start_exercise(lab_server, page, slug: str) -> None:
    page.goto(lab_server.base_url + "/courses/docker-networking/")
    page.click(f"form[action='/exercises/{slug}/start'] button[type=submit]")
    page.wait_for_url("**/labs/*/")
    page.wait_for_selector(DRAWN, state="attached", timeout=60_000)


def test_a_passed_task_stays_passed_after_reload_and_stop_says_what_it_discards(
    lab_server, student_page, artifacts
):
    lab_server.manage("exercises", "load")
    page, page_errors = student_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))  # the fixture accepts them
    try:
        start_exercise(lab_server, page, "masquerade")
        task = page.locator(".task[data-task-id=which-rule]")
        task.locator("[data-pick]").click()
        page.select_option("#panel-rules select[data-table]", "nat")
        page.locator("#panel-rules tr[data-rule]", has_text="-j MASQUERADE").first.click()
        page.click("#exercise-check")
        page.wait_for_function(CHECKED, timeout=60_000)
        assert "passed" in task.get_attribute("class")

        # A reload forgets the picked rule; a new Check asks for it without failing the passed task.
        page.reload()
        page.wait_for_selector(DRAWN, state="attached", timeout=60_000)
        page.click("#exercise-check")
        page.wait_for_function(CHECKED, timeout=60_000)
        assert "passed" in task.get_attribute("class") and task.locator("[data-status]").text_content() == "✓"
        results = task.locator("[data-results] li")
        assert results.count() == 1 and task.locator("[data-results] li.fail").count() == 0
        assert results.first.get_attribute("class") == "skipped"
        assert results.first.text_content() == "Pick a rule in the rules panel first."

        # A hint's backticks are code, and what looks like markup in it is text.
        task.locator("[data-hint]").click()
        code = task.locator("[data-hints] li code")
        code.first.wait_for(timeout=10_000)
        assert code.first.text_content() == "iptables -t nat -L POSTROUTING -v -n --line-numbers"
        assert "`" not in task.locator("[data-hints]").text_content()
        shots(page, artifacts, "passed-after-recheck", ".task[data-task-id=which-rule]")
        # Reloaded, the hint is rendered by the template the same way.
        page.reload()
        assert task.locator("[data-hints] li code").first.text_content().startswith("iptables -t nat")

        # Stop warns what it discards; the overlay says what happened.
        page.wait_for_selector(DRAWN, state="attached", timeout=60_000)
        page.click("button[data-action=stop]")
        page.wait_for_function(
            "() => document.getElementById('lab').dataset.status === 'stopped'", timeout=60_000
        )
        assert dialogs == [
            "Stop the lab? Stopping frees the server: your containers, interfaces, rules and shell are "
            "discarded. Start then prepares a fresh lab; tasks you passed stay passed."
        ]
        overlay = page.locator("#graph-empty")
        assert overlay.is_visible() and overlay.text_content() == (
            "The lab is stopped and its containers and rules were discarded: press Start for a fresh lab."
        )
        shots(page, artifacts, "stopped", ".graph-card")
        # Resizing a stopped lab's page sends the shell nothing, so nothing is refused.
        assert page.locator("#messages .message").count() == 0, page.locator("#messages").text_content()
        page.click("button[data-action=start]")
        page.wait_for_function(
            "() => document.getElementById('lab').dataset.status === 'ready'", timeout=60_000
        )
        assert "passed" in task.get_attribute("class")  # the fresh lab keeps the attempt's grades
        page.click("button[data-action=stop]")
        page.wait_for_function(
            "() => document.getElementById('lab').dataset.status === 'stopped'", timeout=60_000
        )
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "feedback-failed-passed.png", full_page=True)
        raise


def test_docker_command_wrong_answer_and_chinese_labels(lab_server, student_page, artifacts):
    lab_server.manage("exercises", "load")
    page, page_errors = student_page
    try:
        start_exercise(lab_server, page, "publish-p")
        publish = page.locator(".task[data-task-id=publish]")
        # The task text's `{{name}}` is code, not backticks.
        name = publish.locator(".task-text code").first.text_content()
        port = re.search(r"host port (\d+)", publish.locator(".task-text").text_content()).group(1)
        assert "`" not in publish.text_content()

        page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=30_000)
        page.click("#terminal")
        page.keyboard.type(f"docker run -d --name {name} -p {port}:80 nginx")
        page.keyboard.press("Enter")
        page.click("#tab-docker")
        row = page.locator("#panel-docker table.docker tr", has_text=name)
        row.wait_for(timeout=60_000)
        command = row.locator("td").nth(2).locator("code")
        # As `docker ps` prints it; `docker ps --no-trunc` (the title) prints it whole.
        assert command.text_content() == '"nginx -g \'daemon of…"'
        assert command.get_attribute("title") == "\"nginx -g 'daemon off;'\""
        shots(page, artifacts, "docker-panel", "#panels")

        # The container's address with the host's port: the answer is explained, not just refused.
        read = page.locator(".task[data-task-id=read-rules]")
        read.locator("[data-answer]").first.fill(f"172.17.0.2:{port}")
        page.click("#exercise-check")
        page.wait_for_function(CHECKED, timeout=90_000)
        diagnosis = read.locator("[data-results] li.fail .diagnosis").first.text_content()
        assert diagnosis.startswith(
            f"172.17.0.2:{port} pairs the address of container {name} with port {port}"
        )
        shots(page, artifacts, "wrong-answer", ".task[data-task-id=read-rules]")

        # In Chinese (the site's language switch): the namespace kinds and link kinds too.
        page.select_option("form.lang select[name=language]", "zh-hans")
        page.wait_for_load_state()
        page.wait_for_selector(DRAWN, state="attached", timeout=60_000)
        panel = page.locator("#panel-interfaces")
        panel.locator("h3", has_text="host").first.wait_for(timeout=30_000)
        assert panel.locator("h3 small").first.text_content() == "Docker 主机"
        kinds = set(panel.locator("tbody tr td:nth-child(2)").all_text_contents())
        assert {"网桥", "veth 对", "环回"} <= kinds and not kinds & {"bridge", "veth", "loopback"}
        graph = page.evaluate(GRAPH_LINES)
        assert any("Docker 主机" in line for line in graph) and any("容器" in line for line in graph)
        shots(page, artifacts, "zh-interfaces", "#panels")
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "feedback-failed-docker.png", full_page=True)
        raise
