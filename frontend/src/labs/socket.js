// The lab's websocket: JSON frames, reconnect with exponential backoff and jitter.

export class LabSocket {
  /** handlers: {frame(obj), open(isReconnect), close(retryInSeconds)} */
  constructor(path, handlers) {
    this.url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    this.handlers = handlers;
    this.attempt = 0;
    this.opened = false;
    this.ws = null;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      const again = this.opened;
      this.opened = true;
      this.attempt = 0;
      this.handlers.open(again);
    });
    ws.addEventListener("message", (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.handlers.frame(frame);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      const delay = Math.min(15, 0.5 * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
      this.attempt += 1;
      this.handlers.close(delay);
      this.timer = setTimeout(() => this.connect(), delay * 1000);
    });
  }

  /** Reconnect now (a button, or the page becoming visible again). */
  retryNow() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }
}
