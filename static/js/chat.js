/* The built-in chat client, used when ChatKit's web component can't load.
 * Same protocol, same behaviour: reopens the last conversation, renders
 * assistant Markdown safely and ChatKit widgets (their actions and forms go back
 * as threads.custom_action), progress lines while a tool runs, questions
 * (structured input) as buttons, answers the client tool get_local_date by
 * itself, thumbs (items.feedback) and Copy on answers, keeps a message that
 * could not be sent, offers Retry (threads.retry_after_item) after a failed turn
 * and waits out rate limits.
 * This module builds the view (thread list, log, status line, composer); its
 * methods for the open thread, items and turns are in chat-thread.js,
 * chat-items.js and chat-turns.js. */
(function (global) {
  "use strict";
  const { ChatItems, ChatKitApi, ChatThread, ChatTurns, ThreadFollower, ThreadList, WidgetRenderer, el } = global.TodoChat;

  class ChatView {
    constructor(root, { url, fetch, memory, hints, onEffect, announce, describeTodo }) {
      this.api = new ChatKitApi({ url, fetch });
      this.memory = memory;
      this.hints = hints || [];
      this.onEffect = onEffect || (() => {});
      this.announce = announce || (() => {});
      this.describeTodo = describeTodo || (async () => null);
      this.progress = null; // the progress line of the turn that is running
      this.threadId = null;
      this.items = new Map(); // item id -> {item, node}
      this.controller = null;
      this.queuedActions = []; // widget actions used while a turn ran (chat-turns.js)
      this.olderCursor = null;
      this.waitUntil = 0;
      // The open thread follows changes made elsewhere (static/js/thread-follow.js).
      this.follower = new ThreadFollower({
        refresh: () => this.refreshOpen(),
        onDeleted: () => this.closeDeleted(),
        busy: () => Boolean(this.controller),
      });
      this.widgets = new WidgetRenderer({ onAction: (action, control, values) => this.action(control, action, values) });
      this.build(root);
    }

    /** Open the remembered thread (or a new chat), and the list of threads. */
    async start(threadId) {
      this.threads.load();
      await this.openThread(threadId || null, { focus: false });
    }

    build(root) {
      this.newButton = el("button", { type: "button", class: "button fc-new" }, el("span", { "aria-hidden": "true" }, "+ "), "New chat");
      this.threadsToggle = el("button", { type: "button", class: "button fc-threads-toggle", "aria-expanded": "false" }, "Chats");
      const side = el("nav", { class: "fc-threads", "aria-label": "Conversations" });
      const sideHead = el("div", { class: "fc-threads-head" }, this.newButton, this.threadsToggle);
      const sideBody = el("div", { class: "fc-threads-body", id: "fc-threads-body" });
      this.threadsToggle.setAttribute("aria-controls", sideBody.id);
      side.append(sideHead, sideBody);
      this.side = side;
      this.threads = new ThreadList(sideBody, {
        api: this.api,
        onOpen: (threadId) => {
          this.openThread(threadId, { focus: false });
          this.toggleThreads(false, { keepFocus: true });
        },
        onDeleting: (threadId) => this.follower.deleting(threadId),
        onDeleted: (threadId, title) => {
          this.announce(`Deleted the chat “${title}”.`);
          if (threadId === this.threadId) this.openThread(null, { focus: false });
        },
        onError: (message) => this.showError(message),
      });
      this.log = el("div", { class: "fc-log", role: "log", "aria-label": "Conversation", dataset: { testid: "chat-log" }, tabIndex: -1 });
      this.older = el("button", { type: "button", class: "link-button fc-older", hidden: true }, "Show earlier messages");
      this.status = el("div", { class: "fc-error", role: "alert", hidden: true });
      this.input = el("textarea", { class: "fc-input", id: "chat-input", rows: 1, placeholder: "Message the assistant…", "aria-label": "Message the assistant" });
      this.sendButton = el("button", { type: "submit", class: "button primary fc-send" }, "Send");
      this.stopButton = el("button", { type: "button", class: "button fc-stop", hidden: true }, "Stop");
      this.form = el("form", { class: "fc-composer" }, this.input, this.sendButton, this.stopButton);
      root.replaceChildren(
        el("div", { class: "fc", dataset: { testid: "fallback-chat" } }, side, el("div", { class: "fc-main" }, this.older, this.log, this.status, this.form)),
      );
      this.newButton.addEventListener("click", () => {
        this.openThread(null);
        this.toggleThreads(false, { keepFocus: true });
      });
      this.threadsToggle.addEventListener("click", () => this.toggleThreads());
      side.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && side.classList.contains("open")) this.toggleThreads(false);
      });
      this.older.addEventListener("click", () => this.loadOlder());
      this.stopButton.addEventListener("click", () => this.stop());
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.send(this.input.value);
      });
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.send(this.input.value);
        }
      });
      this.input.addEventListener("input", () => this.grow());
      // A placeholder that fits: the full one where there is room, a short one on a phone.
      const narrow = global.matchMedia("(max-width: 480px)");
      const placeholder = () => {
        this.input.placeholder = narrow.matches ? "Message…" : "Message the assistant…";
      };
      narrow.addEventListener("change", placeholder);
      placeholder();
      // Attach button, drop and paste, previews (static/js/attachments.js).
      this.attachments = global.TodoChat.AttachmentComposer ? global.TodoChat.AttachmentComposer.attach(this) : null;
    }

    /** One ChatKit request (attachments.js creates its uploads through this). */
    request(body, options) {
      return this.api.request(body, options);
    }

    toggleThreads(open = !this.side.classList.contains("open"), { keepFocus = false } = {}) {
      this.side.classList.toggle("open", open);
      this.threadsToggle.setAttribute("aria-expanded", String(open));
      if (!open && !keepFocus && this.side.contains(document.activeElement)) this.threadsToggle.focus();
    }

    grow() {
      this.input.style.height = "auto";
      this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 160)}px`;
    }

    showEmpty() {
      const chips = this.hints.map((text) => {
        const chip = el("button", { type: "button", class: "chip" }, text);
        chip.addEventListener("click", () => {
          this.input.value = text;
          this.input.focus();
        });
        return chip;
      });
      this.log.replaceChildren(
        el("div", { class: "fc-empty" }, el("p", {}, "What needs doing? Ask the assistant to add, list, complete or delete todos. Try:"), el("div", { class: "chips" }, ...chips)),
      );
    }

    setThread(threadId) {
      this.threadId = threadId;
      this.memory.threadId = threadId;
      this.threads.setActive(threadId);
      this.follower.open(threadId);
    }

    scrollDown() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    setBusy(busy, { quiet = false } = {}) {
      if (!quiet) {
        this.sendButton.hidden = busy;
        this.stopButton.hidden = !busy;
        this.stopButton.disabled = false;
      }
      this.form.classList.toggle("busy", busy);
    }

    /** The line under the log: an error, a notice or a countdown, with an optional Retry. */
    showError(message, { retryItem = null, level = "error" } = {}) {
      this.status.replaceChildren();
      this.status.hidden = !message;
      this.status.dataset.level = level;
      if (!message) return;
      this.status.append(el("span", {}, message));
      if (retryItem) {
        const retry = el("button", { type: "button", class: "button small-button fc-retry" }, "Retry");
        retry.addEventListener("click", () => this.retry(retryItem));
        this.status.append(retry);
      }
    }
  }

  // One class, its methods in one module per concern (loaded before this one).
  Object.assign(ChatView.prototype, ChatThread, ChatItems, ChatTurns);

  Object.assign(global.TodoChat, { ChatView });
})(window);
