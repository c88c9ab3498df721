/* The open thread follows the socket's `thread.changed` (another tab, worker or the
 * admin changed it), the same way in both chat clients and in docs/chatkit.md's
 * React guide: a change to the open thread refreshes it (ChatKit's fetchUpdates(),
 * or the built-in client's reload of its items), at most once a `interval`, with a
 * trailing refresh so the last change is always fetched; a thread deleted elsewhere
 * is closed by `onDeleted`. Changes to other threads are not followed here. */
(function (global) {
  "use strict";

  class ThreadFollower {
    /**
     * refresh(threadId): fetch the open thread's new state (may return a promise);
     * onDeleted(threadId): it was deleted elsewhere; busy(): the client is streaming
     * the open thread itself (its own turn, or one it follows): a refresh then would
     * race its stream, so the change waits for idle() (the stream may also end having
     * shown nothing, e.g. a re-attach answered 204, so it is not dropped).
     */
    constructor({ refresh, onDeleted, busy = () => false, interval = 1000 }) {
      this.refresh = refresh;
      this.onDeleted = onDeleted;
      this.busy = busy;
      this.interval = interval;
      this.threadId = null;
      this.pending = false; // a change not fetched yet
      this.timer = null;
      this.last = -Infinity; // when the last refresh started
      this.ownDeletes = new Set(); // ids this tab deleted: their "deleted" is no news
    }

    /** The thread now shown (null: a new chat). */
    open(threadId) {
      if (threadId === this.threadId) return;
      this.threadId = threadId || null;
      this.pending = false;
    }

    /** This tab is deleting the thread: its `deleted` message is not someone else's. */
    deleting(threadId) {
      this.ownDeletes.add(threadId);
    }

    /** One message from the socket (anything else than `thread.changed` is ignored). */
    changed(message) {
      if (!message || message.type !== "thread.changed" || !this.threadId || message.thread_id !== this.threadId) return;
      if (message.reason === "deleted") {
        this.pending = false;
        if (!this.ownDeletes.has(message.thread_id)) this.onDeleted(message.thread_id);
        return;
      }
      this.pending = true;
      if (!this.busy()) this.schedule();
    }

    /** The client's stream ended: a change heard meanwhile is fetched now (throttled). */
    idle() {
      if (this.pending) this.schedule();
    }

    schedule() {
      if (this.timer) return;
      // The first change of a burst at once, the rest together once `interval` has passed.
      const wait = Math.max(0, this.last + this.interval - Date.now());
      this.timer = setTimeout(() => this.fire(), wait);
    }

    fire() {
      this.timer = null;
      const threadId = this.threadId;
      if (!this.pending || !threadId || this.busy()) return; // busy: idle() schedules it
      this.pending = false;
      this.last = Date.now();
      Promise.resolve()
        .then(() => this.refresh(threadId))
        .catch((error) => console.warn("Refreshing the open chat failed:", error && error.message));
    }
  }

  Object.assign(global.TodoChat, { ThreadFollower });
})(window);
