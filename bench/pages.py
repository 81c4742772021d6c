"""Timing a page in Debian's chromium: navigation start → the moment the page's own code says it is drawn."""

from __future__ import annotations


def drawn_ms(
    browser, url: str, cookies: list[dict], *, drawn_at: str, viewport: tuple[int, int], timeout_ms: int
) -> float:
    """Load `url` in a fresh context; `drawn_at` (an init script) sets `window.__drawnAt` when drawn."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        page.add_init_script(drawn_at)
        page.goto(url)
        page.wait_for_function("() => window.__drawnAt !== null", timeout=timeout_ms)
        return page.evaluate("window.__drawnAt")
    finally:
        context.close()
