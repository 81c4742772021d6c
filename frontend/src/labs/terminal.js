// The lab terminal: xterm.js with the fit and web-links addons (globals from vendor/).
// Copy: select with the mouse, then Ctrl+Shift+C (or the Copy button); paste: Ctrl+Shift+V, Ctrl+V
// or the Paste button.
// Size: the pty always gets xterm's size. Each fit (the element resized, a key pressed before the
// resize observer ran) that changes it sends it; lab.js sends it again whenever the lab becomes ready
// (every connect starts with that status) and for a new shell. A read-only view (the instructor's) sends
// none: it follows the student's size (`follow`), its font scaled to fit the width.

// labapp/labs/frames.py: TTY_INPUT_MAX (characters; a JS string's length counts no fewer).
const TTY_INPUT_MAX = 64 * 1024;
const FONT_SIZE = 14;
const MIN_FONT_SIZE = 10; // a read-only view's smallest: a narrower element scrolls sideways instead

// Why a shell is new (lab.tty.open's notice): every page opening that shell's terminal says so above
// its scrollback, in the page's language and in colours no shell output uses here (dark on amber).
const NOTICES = {
  hung_up: () => gettext("The page was closed, so its shell was hung up (SIGHUP). This is a new shell."),
  restarted: () => gettext("The lab node restarted, so this is a new shell. The lab's containers, networks and rules are as they were."),
};
const NOTICE_STYLE = "\x1b[38;2;15;23;42;48;2;251;191;36m";

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
      fontSize: FONT_SIZE,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
      theme: { background: "#0f172a", foreground: "#e2e8f0", cursor: "#fbbf24", selectionBackground: "#475569" },
    });
    this.fit = new FitAddon.FitAddon();
    this.term.loadAddon(this.fit);
    this.term.loadAddon(new WebLinksAddon.WebLinksAddon());
    this.readOnly = readOnly;
    this.fontSize = FONT_SIZE; // the page's choice; a read-only view may draw smaller to fit
    this.size = null; // a read-only view: the student's {cols, rows}
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
    if (this.readOnly) {
      this.fitFont();
      return;
    }
    try {
      this.fit.fit();
    } catch {
      // not visible yet
    }
  }

  /** A read-only view: the terminal at the student's size (their shell's lines wrap where theirs do). */
  follow(cols, rows) {
    this.size = { cols, rows };
    this.term.resize(cols, rows);
    this.fitFont();
  }

  /** The largest font (at most the page's) at which the student's columns fit the element's width;
   * rows that do not fit its height scroll (the element scrolls). */
  fitFont() {
    if (!this.size) return;
    const width = this.term.element?.parentElement?.clientWidth;
    if (!width) return;
    let size = this.fontSize;
    this.term.options.fontSize = size;
    // The fit addon's proposal at the current font tells how many columns fit: scale by it, then check.
    for (let i = 0; i < 3; i++) {
      const fits = this.fit.proposeDimensions()?.cols;
      if (!fits || fits >= this.size.cols || size === MIN_FONT_SIZE) break;
      size = Math.max(MIN_FONT_SIZE, Math.floor((size * fits) / this.size.cols * 10) / 10);
      this.term.options.fontSize = size;
    }
    if (this.term.cols !== this.size.cols || this.term.rows !== this.size.rows) this.term.resize(this.size.cols, this.size.rows);
  }

  /** Why the shell is new (lab.tty.open's notice), before its scrollback. */
  notice(code) {
    const text = NOTICES[code]?.();
    if (text) this.term.write(NOTICE_STYLE + " nslab: " + text + " \x1b[0m\r\n");
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
    this.fontSize = px;
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
