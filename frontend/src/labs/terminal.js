// The lab terminal: xterm.js with the fit and web-links addons (globals from vendor/).
// Copy: select with the mouse, then Ctrl+Shift+C (or the Copy button); paste: Ctrl+Shift+V, Ctrl+V
// or the Paste button.
// Size: the pty always gets xterm's size. Each fit (the element resized, a key pressed before the
// resize observer ran) that changes it sends it; lab.js sends it again whenever the lab becomes ready
// (every connect starts with that status) and for a new shell.

// labapp/labs/frames.py: TTY_INPUT_MAX (characters; a JS string's length counts no fewer).
const TTY_INPUT_MAX = 64 * 1024;

export class LabTerminal {
  /** send(frame) delivers tty.input / tty.resize frames to the server; readOnly: a view that takes
   * no keyboard input and sends nothing (an instructor watching a student's terminal). */
  constructor(el, send, { readOnly = false } = {}) {
    this.send = readOnly ? () => false : send;
    this.term = new Terminal({
      disableStdin: readOnly,
      cursorBlink: !readOnly,
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
    this.term.onData((data) => this.type(data));
    this.term.onResize(({ cols, rows }) => this.sendSize(cols, rows));
    this.term.attachCustomKeyEventHandler((ev) => this.keys(ev));
    new ResizeObserver(() => this.refit()).observe(el);
    window.addEventListener("resize", () => this.refit());
    this.refit();
  }

  /** A paste may be longer than a tty.input frame takes: sent in frames, a surrogate pair never split. */
  type(data) {
    for (let start = 0; start < data.length; ) {
      let end = Math.min(data.length, start + TTY_INPUT_MAX);
      const last = data.charCodeAt(end - 1);
      if (end < data.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
      this.send({ type: "tty.input", data: data.slice(start, end) });
      start = end;
    }
  }

  keys(ev) {
    if (ev.type === "keydown") this.refit(); // a resize not yet fitted reaches the pty before this key
    if (ev.type !== "keydown" || !ev.ctrlKey || !ev.shiftKey) return true;
    if (ev.code === "KeyC") {
      this.copy();
      return false;
    }
    if (ev.code === "KeyV") return false; // the browser's paste event delivers the text
    return true;
  }

  refit() {
    try {
      this.fit.fit();
    } catch {
      // not visible yet
    }
  }

  sendSize(cols = this.term.cols, rows = this.term.rows) {
    this.send({ type: "tty.resize", cols: Math.min(500, Math.max(1, cols)), rows: Math.min(200, Math.max(1, rows)) });
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
