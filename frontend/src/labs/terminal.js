// The lab terminal: xterm.js with the fit and web-links addons (globals from vendor/).
// Copy: select with the mouse, then Ctrl+Shift+C (or the Copy button); paste: Ctrl+Shift+V, Ctrl+V
// or the Paste button.

// Size: the pty must always have xterm's size. After every fit (once layout has settled: a resize
// observer, one animation frame) the size xterm has is sent, unless the server has it already; a
// connect or a new shell forgets what the server had (setLive), and input waits for a pending fit.

export class LabTerminal {
  /** send(frame) delivers tty.input / tty.resize frames to the server; true if it went out. */
  constructor(el, send) {
    this.send = send;
    this.live = false; // the server takes frames (socket open, lab ready)
    this.sentSize = ""; // "colsxrows" the server has
    this.fitFrame = 0;
    this.term = new Terminal({
      cursorBlink: true,
      convertEol: false,
      scrollback: 5000,
      fontSize: 14,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
      theme: { background: "#0f172a", foreground: "#e2e8f0", cursor: "#fbbf24", selectionBackground: "#475569" },
    });
    this.fit = new FitAddon.FitAddon();
    this.term.loadAddon(this.fit);
    this.term.loadAddon(new WebLinksAddon.WebLinksAddon());
    this.term.open(el);
    this.term.onData((data) => {
      if (this.fitFrame) this.refitNow();
      this.send({ type: "tty.input", data });
    });
    this.term.onResize(() => this.syncSize());
    this.term.attachCustomKeyEventHandler((ev) => this.keys(ev));
    new ResizeObserver(() => this.refit()).observe(el);
    window.addEventListener("resize", () => this.refit());
    this.refitNow();
  }

  keys(ev) {
    if (ev.type !== "keydown" || !ev.ctrlKey || !ev.shiftKey) return true;
    if (ev.code === "KeyC") {
      this.copy();
      return false;
    }
    if (ev.code === "KeyV") return false; // the browser's paste event delivers the text
    return true;
  }

  /** Fit to the element in the next animation frame (several requests make one fit). */
  refit() {
    if (!this.fitFrame) this.fitFrame = requestAnimationFrame(() => this.refitNow());
  }

  refitNow() {
    cancelAnimationFrame(this.fitFrame);
    this.fitFrame = 0;
    try {
      this.fit.fit();
    } catch {
      // not visible yet
    }
    this.syncSize();
  }

  /** The server takes frames (true) or not; either way it may no longer have our size. */
  setLive(live) {
    this.live = live;
    this.sentSize = "";
    if (live) this.refitNow();
  }

  /** Send xterm's size unless the server has it. */
  syncSize() {
    const cols = Math.min(500, Math.max(1, this.term.cols));
    const rows = Math.min(200, Math.max(1, this.term.rows));
    const size = `${cols}x${rows}`;
    if (!this.live || size === this.sentSize) return;
    if (this.send({ type: "tty.resize", cols, rows })) this.sentSize = size;
  }

  write(data) {
    this.term.write(data);
  }

  /** Forget everything on screen and in the scrollback (before a replay, or after lab.tty.reset). */
  reset() {
    this.term.reset();
  }

  setFontSize(px) {
    this.term.options.fontSize = px;
    this.refit();
  }

  focus() {
    this.term.focus();
  }

  async copy() {
    const text = this.term.getSelection();
    if (!text) return false;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Not a secure context: the old way.
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    this.focus();
    return true;
  }

  async paste() {
    try {
      const text = await navigator.clipboard.readText();
      if (text) this.term.paste(text);
      this.focus();
      return true;
    } catch {
      return false;
    }
  }
}
