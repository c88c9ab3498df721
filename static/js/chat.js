/* The built-in chat client, used when ChatKit's web component can't load.
 * Same protocol, same behaviour: reopens the last conversation, renders
 * assistant Markdown safely and ChatKit widgets (their actions and forms go back
 * as threads.custom_action), progress lines while a tool runs, questions
 * (structured input) as buttons, answers the client tool get_local_date by
 * itself, thumbs (items.feedback) and Copy on answers, keeps a message that
 * could not be sent, offers Retry (threads.retry_after_item) after a failed turn
 * and waits out rate limits. */
(function (global) {
  "use strict";
  const { ApiError, ChatKitApi, ThreadFollower, ThreadList, WidgetRenderer, apiFetch, applyEvent, focusKey, readEvents, restoreFocus, friendlyError, markdown } = global.TodoChat;

  const ITEMS_PAGE = 50;

  const { el } = global.TodoChat;

  /** A fresh key naming one message, so a resend of it is never a second turn. */
  function messageKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs https
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function userText(item) {
    return (item.content || [])
      .filter((part) => part.type === "input_text" || part.type === "input_tag")
      .map((part) => part.text)
      .join("");
  }

  /** Does a stored item show the same as the one drawn? (What a refresh may leave be.) */
  function sameItem(drawn, stored) {
    if (drawn.type !== stored.type) return false;
    if (stored.type === "widget") return JSON.stringify(drawn.widget) === JSON.stringify(stored.widget);
    if (stored.type === "structured_input") return drawn.status === stored.status;
    const text = (item) => (item.content || []).map((part) => part.text || "").join("");
    return text(drawn) === text(stored);
  }

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
    }

    /** The open thread was deleted elsewhere: close it, say so, keep the draft. */
    closeDeleted() {
      const draft = this.input.value;
      this.openThread(null, { focus: false });
      this.input.value = draft;
      this.showError("This chat was deleted in another tab or window.", { level: "notice" });
    }

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
    }

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
    }

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
    }

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
    }

    scrollDown() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    // --- items ------------------------------------------------------------

    /** Draw (or redraw) one thread item; returns its node. */
    renderItem(item, { append = true } = {}) {
      const known = this.items.get(item.id);
      let node;
      if (item.type === "user_message") {
        node = el("div", { class: "fc-msg fc-user", dataset: { role: "user" } }, userText(item));
        if (this.attachments) this.attachments.decorate(node, item.attachments);
      } else if (item.type === "assistant_message") {
        const text = (item.content || []).map((part) => part.text || "").join("");
        const bubble = el("div", { class: "fc-msg fc-assistant md", dataset: { role: "assistant", itemId: item.id } });
        bubble.append(markdown.render(text));
        if (this.memory.stoppedIds().has(item.id)) bubble.classList.add("stopped");
        // The answer, then what can be done with it (thumbs, Copy).
        node = el("div", { class: "fc-answer" }, bubble, this.answerActions(item, text, known && known.node));
      } else if (item.type === "widget") {
        node = this.widgetNode(item, known && known.node);
      } else if (item.type === "structured_input") {
        node = this.questionNode(item);
      } else {
        return null; // hidden context, end of turn, tasks: nothing to show
      }
      node.dataset.itemId = item.id;
      this.items.set(item.id, { item, node });
      if (known && known.node.isConnected) known.node.replaceWith(node);
      else if (append) this.log.append(node);
      return node;
    }

    widgetNode(item, previous) {
      const frame = el("div", { class: "fc-widget", dataset: { role: "widget" } });
      try {
        frame.append(this.widgets.render(item.widget));
      } catch (error) {
        // A component we can't draw: the item's own plain-text version.
        frame.classList.add("fc-widget-text");
        frame.append(markdown.render(item.copy_text || "(This answer can't be shown here.)"));
      }
      const key = previous ? focusKey(previous) : null;
      if (key) queueMicrotask(() => restoreFocus(frame, key));
      return frame;
    }

    /** Thumbs up / down (items.feedback, stored per item) and Copy, under an answer. */
    answerActions(item, text, previous) {
      const bar = el("div", { class: "fc-answer-actions", role: "group", "aria-label": "Answer actions" });
      const kept = previous ? previous.querySelector(".fc-answer-actions [aria-pressed='true']") : null;
      const thumbs = [
        // Words, not 👍 👎: emoji fonts are missing on many machines (an empty box instead).
        ["positive", "Good", "Good answer"],
        ["negative", "Bad", "Bad answer"],
      ].map(([kind, glyph, label]) => {
        const button = el("button", { type: "button", class: "icon-button fc-feedback", "aria-label": label, "aria-pressed": "false", title: label, dataset: { kind } }, glyph);
        if (kept && kept.dataset.kind === kind) button.setAttribute("aria-pressed", "true");
        button.addEventListener("click", () => this.feedback(item.id, kind, thumbs));
        return button;
      });
      const copy = el("button", { type: "button", class: "icon-button fc-copy", "aria-label": "Copy answer", title: "Copy answer" }, "Copy");
      copy.addEventListener("click", () => this.copy(text));
      bar.append(...thumbs, copy);
      return bar;
    }

    async feedback(itemId, kind, buttons) {
      if (!this.threadId) return;
      try {
        await this.api.request({ type: "items.feedback", params: { thread_id: this.threadId, item_ids: [itemId], kind } });
        for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.kind === kind));
        this.announce(kind === "positive" ? "Thanks for the feedback." : "Thanks: we'll look into that answer.");
      } catch (error) {
        this.showError(friendlyError(error));
      }
    }

    async copy(text) {
      try {
        await navigator.clipboard.writeText(text);
      } catch (_) {
        const area = el("textarea", { class: "visually-hidden", value: text });
        document.body.append(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      this.announce("Copied the answer.");
    }

    /** A question (structured input): one button per option, and Skip, while it waits. */
    questionNode(item) {
      const node = el("div", { class: "fc-question", dataset: { role: "question" } });
      for (const [index, input] of (item.inputs || []).entries()) {
        const questionId = `fcq-${item.id}-${index}`;
        node.append(el("p", { class: "fc-question-text", id: questionId }, input.question));
        if (item.status !== "pending") {
          const answer = input.answer;
          const said = !answer || answer.skipped || !(answer.values || []).length ? "Skipped." : `Answered: ${answer.values.join(", ")}`;
          node.append(el("p", { class: "muted small" }, said));
          continue;
        }
        const group = el("div", { class: "fc-choices", role: "group", "aria-labelledby": questionId });
        for (const option of input.options || []) {
          const button = el("button", { type: "button", class: "button fc-choice" }, option.value);
          // A todo id offered by the question reads as its title: "#12 oat milk".
          if (/^\d+$/.test(option.value)) {
            this.describeTodo(parseInt(option.value, 10)).then((title) => {
              if (title) button.textContent = `#${option.value} ${title}`;
            });
          }
          button.addEventListener("click", () => this.answerQuestion(item, input, [option.value]));
          group.append(button);
        }
        const skip = el("button", { type: "button", class: "button fc-choice-skip" }, "Skip");
        skip.addEventListener("click", () => this.answerQuestion(item, input, null));
        group.append(skip);
        node.append(group);
      }
      return node;
    }

    /** threads.add_structured_input: the chosen value (null: skipped); the server acts on it. */
    async answerQuestion(item, input, values) {
      if (this.controller || !this.threadId) return;
      this.input.focus(); // the buttons go away with the answer
      const submission = values ? { status: "answered", answers: { [input.id]: { values } } } : { status: "skipped", answers: {} };
      await this.run({ type: "threads.add_structured_input", params: { thread_id: this.threadId, item_id: item.id, input: submission } });
    }

    /** threads.add_client_tool_output: the browser answers the agent's client tool call. */
    async answerClientTool(call) {
      if (!this.threadId) return;
      let result;
      try {
        result = global.TodoChat.answerClientTool(call.name, call.arguments || {});
      } catch (error) {
        result = { error: String(error && error.message) };
      }
      await this.run({ type: "threads.add_client_tool_output", params: { thread_id: this.threadId, result } });
    }

    /** The line saying what the assistant is doing right now (progress_update). */
    showProgress(text) {
      if (!this.progress) {
        this.progress = el("p", { class: "fc-progress muted small", dataset: { testid: "chat-progress" } });
        this.log.append(this.progress);
      }
      this.progress.textContent = text;
      this.log.append(this.progress); // stays the last line while items arrive
      this.scrollDown();
    }

    clearProgress() {
      if (this.progress) this.progress.remove();
      this.progress = null;
    }

    removeItemsAfter(itemId) {
      const entry = this.items.get(itemId);
      if (!entry) return;
      let node = entry.node.nextSibling;
      while (node) {
        const next = node.nextSibling;
        if (node.dataset && node.dataset.itemId) this.items.delete(node.dataset.itemId);
        node.remove();
        node = next;
      }
    }

    /** After a reload: a user message with no answer after it gets a Retry. */
    offerRetryIfUnanswered() {
      const last = [...this.items.values()].pop();
      if (last && last.item.type === "user_message") {
        this.showError("This message has no answer yet.", { retryItem: last.item.id });
      }
    }

    // --- turns ------------------------------------------------------------

    async send(rawText) {
      const text = rawText.trim();
      if (this.controller || Date.now() < this.waitUntil || (this.attachments && this.attachments.busy)) return;
      const attached = this.attachments ? this.attachments.take() : [];
      if (!text && !attached.length) return;
      const input = {
        content: [{ type: "input_text", text }],
        attachments: attached.map((attachment) => attachment.id),
        inference_options: {},
      };
      const body = this.threadId
        ? { type: "threads.add_user_message", params: { thread_id: this.threadId, input } }
        : { type: "threads.create", params: { input } };
      // The same text sent again after a failure is the same message (Idempotency-Key):
      // had the first try been stored after all, the server answers with that turn.
      const again = this.unsent && this.unsent.text === text && this.unsent.threadId === this.threadId;
      const key = again ? this.unsent.key : messageKey();
      this.unsent = { text, key, threadId: this.threadId };
      if (!this.threadId) this.log.replaceChildren();
      this.input.value = "";
      this.grow();
      const pending = el("div", { class: "fc-msg fc-user pending", dataset: { role: "user" } }, text);
      if (this.attachments) this.attachments.decorate(pending, attached);
      this.log.append(pending);
      this.scrollDown();
      const outcome = await this.run(body, { pending, headers: { "Idempotency-Key": key } });
      if (outcome.saved) this.unsent = null;
      else {
        // Never stored: no orphan bubble, the text goes back to the composer.
        pending.remove();
        if (!this.input.value) this.input.value = text;
        if (this.attachments) this.attachments.restore(attached);
        this.grow();
        if (!this.threadId) this.showEmpty();
      }
    }

    retry(itemId) {
      if (this.controller) return;
      this.input.focus(); // the Retry button goes away with the error line
      this.removeItemsAfter(itemId);
      this.run({ type: "threads.retry_after_item", params: { thread_id: this.threadId, item_id: itemId } }, { retryItem: itemId });
    }

    /** A widget control was used: threads.custom_action, the widget updated in place. */
    async action(control, action, values) {
      const frame = control.closest("[data-item-id]");
      if (!frame || !this.threadId || this.controller) return;
      const payload = values ? { ...(action.payload || {}), ...values } : action.payload;
      const params = { thread_id: this.threadId, item_id: frame.dataset.itemId, action: { type: action.type, payload } };
      await this.run({ type: "threads.custom_action", params }, { quiet: true });
    }

    /**
     * Stream one request and apply its events. `saved` says whether the server
     * took it (any event arrived), so a send that failed before can be given back.
     */
    async run(body, { pending = null, retryItem = null, quiet = false, headers, open = null } = {}) {
      const controller = new AbortController();
      this.controller = controller;
      if (!open) {
        this.showError(null);
        this.setBusy(true, { quiet });
      }
      const turn = { pending, saved: false, streaming: null, widgetSeen: false, userItem: retryItem, failed: false, clientToolCall: null, question: null };
      try {
        const events = open ? await open(controller.signal) : await this.api.stream(body, { signal: controller.signal, headers });
        if (events && open) {
          this.showError(null);
          this.setBusy(true, { quiet });
        }
        for await (const event of events || []) {
          turn.saved = true;
          this.handleEvent(event, turn);
        }
      } catch (error) {
        if (error.name === "AbortError") {
          // Stopped, not merely left (another thread opened): the answer goes on then.
          if (turn.streaming && controller.stopped) {
            (turn.streaming.node.querySelector(".fc-assistant") || turn.streaming.node).classList.add("stopped");
            this.memory.markStopped(turn.streaming.item.id);
          }
        } else if (open && !turn.saved) {
          // Following a turn that could not be joined: the stored items stand, quietly.
        } else if (error instanceof ApiError && error.code === "quota_exceeded") {
          // Today's token budget is spent: the server says what is left and when it resets.
          this.showError(error.message, { level: "wait" });
        } else if (error instanceof ApiError && error.status === 429) {
          this.rateLimited(error.retryAfter || 10);
        } else if (turn.saved && turn.userItem) {
          this.showError("The connection dropped before the answer finished.", { retryItem: turn.userItem });
        } else {
          this.showError(friendlyError(error) + (pending && !turn.saved ? " Your message wasn't sent: it's back in the box below." : ""));
        }
      } finally {
        if (turn.streaming) turn.streaming.node.removeAttribute("aria-busy");
        if (this.controller === controller) this.controller = null;
        this.follower.idle(); // a change heard while streaming is fetched now
        this.clearProgress();
        this.setBusy(false, { quiet });
      }
      // A followed turn's client tool is the starting tab's to answer (else a reload answers it).
      if (turn.clientToolCall && !turn.failed && !open) {
        await this.answerClientTool(turn.clientToolCall); // the turn goes on with the answer
      } else if (turn.question) {
        const entry = this.items.get(turn.question.id);
        const first = entry && entry.node.querySelector(".fc-choice");
        if (first) first.focus();
        this.announce(`The assistant asks: ${(turn.question.inputs[0] || {}).question || "a question"}`);
      }
      return turn;
    }

    handleEvent(event, turn) {
      applyEvent(this, event, turn);
    }

    /** Stop listening to the running turn (which goes on, stored as it goes). */
    detach() {
      if (this.controller) this.controller.abort();
    }

    /** Stop: the server ends the turn (on whichever worker runs it), keeping what was
     * said; closing our stream alone would not (turns outlive their connection). */
    stop() {
      if (!this.controller) return;
      if (this.threadId) {
        const url = `/api/chatkit/threads/${encodeURIComponent(this.threadId)}/stop`;
        apiFetch(url, { method: "POST", body: {} }).catch(() => {});
      }
      this.controller.stopped = true;
      this.controller.abort();
    }

    /** 429: say how long, count it down, and keep Send waiting until then. */
    rateLimited(seconds) {
      this.waitUntil = Date.now() + seconds * 1000;
      clearInterval(this.countdown);
      const tick = () => {
        const left = Math.ceil((this.waitUntil - Date.now()) / 1000);
        if (left <= 0) {
          clearInterval(this.countdown);
          this.sendButton.disabled = false;
          this.showError(null);
          return;
        }
        this.sendButton.disabled = true;
        this.status.firstChild.textContent = `You're going a bit fast. You can send again in ${left} s.`;
      };
      this.showError("You're going a bit fast.", { level: "wait" });
      tick();
      this.countdown = setInterval(tick, 1000);
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

  Object.assign(global.TodoChat, { ChatView });
})(window);
