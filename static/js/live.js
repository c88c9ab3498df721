/* /ws/todos/: live todo changes, with reconnects (exponential back-off). A
 * close with 4401 means the session is over: no reconnect, signed out. */
(function (global) {
  "use strict";

  class LiveSocket {
    constructor({ path, onMessage, onOpen, onState, onSignedOut }) {
      this.path = path;
      this.onMessage = onMessage;
      this.onOpen = onOpen;
      this.onState = onState;
      this.onSignedOut = onSignedOut || (() => {});
      this.attempts = 0;
      this.socket = null;
      this.closed = false;
    }

    connect() {
      if (this.closed) return this;
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const socket = new WebSocket(`${scheme}//${location.host}${this.path}`);
      this.socket = socket;
      this.onState("connecting");
      socket.addEventListener("open", () => {
        this.attempts = 0;
        this.onState("live");
        this.onOpen();
      });
      socket.addEventListener("message", (event) => {
        try {
          this.onMessage(JSON.parse(event.data));
        } catch (_) {
          // Not JSON: nothing we can apply.
        }
      });
      socket.addEventListener("close", (event) => {
        if (this.closed) return;
        if (event.code === 4401) {
          this.close();
          this.onState("signed-out");
          this.onSignedOut();
          return;
        }
        this.onState("offline");
        const delay = Math.min(30000, 500 * 2 ** this.attempts) * (0.75 + Math.random() / 2);
        this.attempts += 1;
        setTimeout(() => this.connect(), delay);
      });
      return this;
    }

    close() {
      this.closed = true;
      if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close();
    }
  }

  Object.assign(global.TodoChat, { LiveSocket });
})(window);
