"""Timing a page in Debian's chromium: navigation start → the moment the page's own code says it is drawn."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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


class _FloorHandler(BaseHTTPRequestHandler):
    """The plainest server of a floor page: `files(path)` gives (body, content type), or None."""

    files = staticmethod(lambda path: None)

    def do_GET(self):  # noqa: N802 (http.server's name)
        found = self.files(self.path.split("?")[0])
        body, kind = found or (b"not found", "text/plain")
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def floor_server(files: Callable[[str], tuple[bytes, str] | None]) -> Iterator[str]:
    """Serve `files` from http.server on a free port while the block runs; its URL."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), type("Handler", (_FloorHandler,), {"files": staticmethod(files)})
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def interleaved(load: Callable[[str, list], float], url: str, floor_url: str, cookies: list, loads: int):
    """(page samples, floor samples): a warm-up of each (server caches, the browser's first start),
    then `loads` loads of the page and of its floor in turn, so that both see the same machine."""
    load(url, cookies)
    load(floor_url, [])
    samples, floor = [], []
    for _ in range(loads):
        samples.append(load(url, cookies))
        floor.append(load(floor_url, []))
    return samples, floor
