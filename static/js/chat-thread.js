/* The open thread in the built-in chat client (the list of threads is threads.js):
 * opening it (its last page of items, then a pending client tool or a running
 * answer), "Show earlier messages", `thread.changed` from the socket (refresh what
 * differs, re-attach to an answer running elsewhere, close it when deleted) and a
 * Retry for a message left unanswered. ChatView's methods, mixed in by chat.js. */
(function (global) {
  "use strict";
  const { ApiError, friendlyError, readEvents } = global.TodoChat;

  const ITEMS_PAGE = 50;

  /** Does a stored item show the same as the one drawn? (What a refresh may leave be.) */
  function sameItem(drawn, stored) {
    if (drawn.type !== stored.type) return false;
    if (stored.type === "widget") return JSON.stringify(drawn.widget) === JSON.stringify(stored.widget);
    if (stored.type === "structured_input") return drawn.status === stored.status;
    const text = (item) => (item.content || []).map((part) => part.text || "").join("");
    return text(drawn) === text(stored);
  }

  /** ChatView's methods for the open thread. */
  const ChatThread = {
    /** `thread.changed` from the socket: refresh the thread list (a burst of changes, once),
     * and the open thread. This tab's own turn is announced too ("item", "title", and
     * "status" once unlocked, which may reach us before or after our stream ends). We
     * don't tell it apart from another tab's (a time window guesses; a per-tab marker
     * would need the server to echo it): the refresh redraws only what differs from what
     * is shown, so after our own turn it changes nothing on screen, costs an items.list
     * and a threads.get_by_id, and a change from elsewhere right behind it is never lost. */
    threadChanged(message) {
      this.deletedThreads = this.deletedThreads || new Set();
      if (message.reason === "deleted") this.deletedThreads.add(message.thread_id);
      this.follower.changed(message);
      if (this.threadListReload) return;
      this.threadListReload = setTimeout(() => {
        const deleted = this.deletedThreads;
        this.threadListReload = null;
        this.deletedThreads = new Set();
        this.threads.refresh(deleted);
      }, 300);
    },

    /** The open thread was deleted elsewhere: close it, say so, keep the draft. */
    closeDeleted() {
      const draft = this.input.value;
      this.openThread(null, { focus: false });
      this.input.value = draft;
      this.showError("This chat was deleted in another tab or window.", { level: "notice" });
    },

    /** Redraw those of the open thread's latest items that differ from the stored ones
     * (changed in another tab), and follow its answer if one is running. */
    async refreshOpen() {
      const threadId = this.threadId;
      if (!threadId || this.controller) return;
      let page;
      try {
        page = await this.api.listItems(threadId, { limit: ITEMS_PAGE });
      } catch (error) {
        if (error instanceof ApiError && error.status === 404 && this.threadId === threadId) this.closeDeleted();
        return;
      }
      if (this.threadId !== threadId || this.controller) return;
      const fresh = page.data.reverse();
      let changed = false;
      if (!page.has_more && !this.olderCursor) {
        // The whole thread is here: what is no longer stored goes (a retry elsewhere).
        const ids = new Set(fresh.map((item) => item.id));
        for (const [id, entry] of this.items) {
          if (ids.has(id)) continue;
          entry.node.remove();
          this.items.delete(id);
          changed = true;
        }
      }
      const empty = this.log.querySelector(".fc-empty");
      if (empty) empty.remove();
      for (const item of fresh) {
        const known = this.items.get(item.id);
        // Unchanged, or being used right now (focus inside): leave it be.
        if (known && (sameItem(known.item, item) || known.node.contains(document.activeElement))) continue;
        changed = this.renderItem(item) !== null || changed;
      }
      if (changed) this.scrollDown(); // nothing new (this tab's own turn): the reader stays put
      const thread = await this.api.getThread(threadId).catch(() => null);
      if (thread && thread.status && thread.status.type === "locked") await this.reattach(threadId);
    },

    /**
     * Follow the thread's running answer, if any (after a reload, or one started in
     * another tab): its events replay from the turn's start, so each item is redrawn
     * by id over what was loaded, then live to its end. 204: nothing runs.
     */
    async reattach(threadId) {
      if (this.controller || this.threadId !== threadId) return;
      const url = `/api/chatkit/threads/${encodeURIComponent(threadId)}/events`;
      const open = async (signal) => {
        const response = await this.api.fetch(url, { method: "GET", headers: { Accept: "text/event-stream" }, signal });
        if (response.status === 204) return null;
        if (!response.ok) throw await ApiError.from(response);
        return readEvents(response);
      };
      await this.run(null, { open });
    },

    async openThread(threadId, { focus = true } = {}) {
      this.detach(); // leaving a thread: its answer goes on and is stored
      this.setThread(threadId);
      this.items.clear();
      this.olderCursor = null;
      this.older.hidden = true;
      this.showError(null);
      if (!threadId) {
        this.showEmpty();
        if (focus) this.input.focus();
        return;
      }
      this.log.replaceChildren();
      this.log.setAttribute("aria-busy", "true");
      try {
        const page = await this.api.listItems(threadId, { limit: ITEMS_PAGE });
        if (this.threadId !== threadId) return; // another thread was picked meanwhile
        for (const item of page.data.reverse()) this.renderItem(item);
        this.olderCursor = page.has_more ? page.after || page.data[0].id : null;
        this.older.hidden = !this.olderCursor;
        this.offerRetryIfUnanswered();
        this.scrollDown();
        // A turn that was waiting for the browser's date when the page went away.
        const last = page.data.length ? page.data[page.data.length - 1] : null;
        if (last && last.type === "client_tool_call" && last.status === "pending") await this.answerClientTool(last);
        else this.reattach(threadId); // an answer still running (a reload mid-answer): follow it
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          // Deleted, purged or another account's: start afresh, quietly.
          this.openThread(null, { focus });
          return;
        }
        this.showError(friendlyError(error));
      } finally {
        this.log.removeAttribute("aria-busy");
      }
    },

    async loadOlder() {
      const threadId = this.threadId;
      try {
        const page = await this.api.listItems(threadId, { after: this.olderCursor, limit: ITEMS_PAGE });
        if (this.threadId !== threadId) return;
        const first = this.log.firstChild;
        for (const item of page.data) {
          if (this.items.has(item.id)) continue;
          const node = this.renderItem(item, { append: false });
          if (node) this.log.insertBefore(node, first);
        }
        this.olderCursor = page.has_more ? page.after || page.data[page.data.length - 1].id : null;
        this.older.hidden = !this.olderCursor;
      } catch (error) {
        this.showError(friendlyError(error));
      }
    },

    /** After a reload: a user message with no answer after it gets a Retry. */
    offerRetryIfUnanswered() {
      const last = [...this.items.values()].pop();
      if (last && last.item.type === "user_message") {
        this.showError("This message has no answer yet.", { retryItem: last.item.id });
      }
    },
  };

  Object.assign(global.TodoChat, { ChatThread });
})(window);
