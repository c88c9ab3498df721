/* The built-in chat client, used when ChatKit's web component can't load.
 * It speaks the same ChatKit server protocol at /chatkit: threads.list,
 * items.list, threads.create, threads.add_user_message, streamed as
 * `data: <event json>\n\n` and rendered as it arrives. No build step. */
(function (global) {
  "use strict";
  const { ApiError, friendlyError } = global.TodoChat;

  const SUGGESTIONS = ["add buy milk", "list", "complete buy milk", "delete buy milk"];

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  /** Parse a text/event-stream body into ChatKit event objects, as they arrive. */
  async function* readEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      buffer = buffer.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) yield JSON.parse(data);
      }
      if (done) return;
    }
  }

  function userText(item) {
    return (item.content || [])
      .filter((part) => part.type === "input_text" || part.type === "input_tag")
      .map((part) => part.text)
      .join("");
  }

  function assistantParts(item) {
    return (item.content || []).map((part) => part.text || "");
  }

  class FallbackChat {
    constructor(root, { url, fetch, onEffect }) {
      this.url = url;
      this.fetch = fetch;
      this.onEffect = onEffect || (() => {});
      this.threadId = null;
      this.threads = new Map();
      this.bubbles = new Map(); // item id -> {node, parts}
      this.controller = null;
      this.build(root);
      this.loadThreads();
    }

    build(root) {
      this.newButton = el("button", { type: "button", class: "button fc-new" }, "+ New chat");
      this.threadList = el("ul", { class: "fc-thread-list", "aria-label": "Conversations" });
      this.log = el("div", { class: "fc-log", role: "log", "aria-live": "polite", dataset: { testid: "chat-log" } });
      this.error = el("p", { class: "fc-error", role: "alert", hidden: true });
      this.input = el("textarea", {
        class: "fc-input",
        rows: 1,
        placeholder: "Ask the assistant… e.g. “add buy milk”",
        "aria-label": "Message the assistant",
      });
      this.sendButton = el("button", { type: "submit", class: "button primary fc-send" }, "Send");
      this.stopButton = el("button", { type: "button", class: "button fc-stop", hidden: true }, "Stop");
      this.form = el("form", { class: "fc-composer" }, this.input, this.sendButton, this.stopButton);
      root.replaceChildren(
        el(
          "div",
          { class: "fc", dataset: { testid: "fallback-chat" } },
          el("aside", { class: "fc-threads" }, this.newButton, this.threadList),
          el("div", { class: "fc-main" }, this.log, this.error, this.form),
        ),
      );
      this.newButton.addEventListener("click", () => this.openThread(null));
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
      this.showEmpty();
      // Attach button, drop and paste, previews (static/js/attachments.js).
      this.attachments = global.TodoChat.AttachmentComposer ? global.TodoChat.AttachmentComposer.attach(this) : null;
    }

    showEmpty() {
      const chips = SUGGESTIONS.map((text) => {
        const chip = el("button", { type: "button", class: "chip" }, text);
        chip.addEventListener("click", () => {
          this.input.value = text;
          this.input.focus();
        });
        return chip;
      });
      this.log.replaceChildren(
        el(
          "div",
          { class: "fc-empty" },
          el("p", {}, "What needs doing? Ask the assistant to add, list, complete or delete todos."),
          el("div", { class: "chips" }, ...chips),
        ),
      );
    }

    /** POST one ChatKit request; JSON for reads, the raw Response for streams. */
    async request(body, { signal, stream = false } = {}) {
      const response = await this.fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: stream ? "text/event-stream" : "application/json" },
        body: JSON.stringify(body),
        signal,
      });
      if (!response.ok) throw await ApiError.from(response);
      return stream ? response : response.json();
    }

    async loadThreads() {
      try {
        const page = await this.request({ type: "threads.list", params: { limit: 30, order: "desc" } });
        this.threads = new Map(page.data.map((thread) => [thread.id, thread]));
        this.renderThreads();
      } catch (error) {
        this.showError(friendlyError(error));
      }
    }

    renderThreads() {
      const items = [...this.threads.values()].map((thread) => {
        const button = el(
          "button",
          { type: "button", class: "fc-thread" + (thread.id === this.threadId ? " active" : "") },
          thread.title || "New chat",
        );
        button.addEventListener("click", () => this.openThread(thread.id));
        return el("li", {}, button);
      });
      this.threadList.replaceChildren(...items);
    }

    async openThread(threadId) {
      if (this.controller) this.stop();
      this.threadId = threadId;
      this.bubbles.clear();
      this.showError(null);
      this.renderThreads();
      if (!threadId) {
        this.showEmpty();
        this.input.focus();
        return;
      }
      this.log.replaceChildren();
      try {
        const page = await this.request({
          type: "items.list",
          params: { thread_id: threadId, limit: 100, order: "desc" },
        });
        if (this.threadId !== threadId) return; // another thread was picked meanwhile
        for (const item of page.data.reverse()) this.renderItem(item);
      } catch (error) {
        this.showError(friendlyError(error));
      }
    }

    renderItem(item) {
      if (item.type === "user_message") {
        if (!this.bubbles.has(item.id)) {
          const bubble = this.addBubble("user", [userText(item)], item.id);
          if (this.attachments) this.attachments.decorate(bubble.node, item.attachments);
        }
      } else if (item.type === "assistant_message") {
        const bubble = this.bubbles.get(item.id) || this.addBubble("assistant", [], item.id);
        bubble.parts = assistantParts(item);
        this.paint(bubble);
      }
    }

    addBubble(role, parts, id) {
      const node = el("div", { class: `fc-msg fc-${role}`, dataset: { role } });
      const bubble = { node, parts };
      if (id) this.bubbles.set(id, bubble);
      this.log.append(node);
      this.paint(bubble);
      return bubble;
    }

    paint(bubble) {
      bubble.node.textContent = bubble.parts.join("");
      this.log.scrollTop = this.log.scrollHeight;
    }

    async send(rawText) {
      const text = rawText.trim();
      if (this.controller || (this.attachments && this.attachments.busy)) return;
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
      if (!this.threadId) this.log.replaceChildren();
      this.showError(null);
      this.input.value = "";
      const pending = this.addBubble("user", [text]);
      if (this.attachments) this.attachments.decorate(pending.node, attached);
      this.pendingUser = pending;
      this.controller = new AbortController();
      this.setBusy(true);
      let streaming = null;
      try {
        const response = await this.request(body, { signal: this.controller.signal, stream: true });
        for await (const event of readEvents(response)) {
          streaming = this.handleEvent(event) || streaming;
        }
      } catch (error) {
        if (error.name === "AbortError") {
          if (streaming) streaming.node.classList.add("stopped");
        } else if (error instanceof ApiError) {
          // Refused before anything was stored: give the text back to retry.
          pending.node.remove();
          this.input.value = text;
          if (this.attachments) this.attachments.restore(attached);
          this.showError(friendlyError(error));
        } else {
          this.showError(friendlyError(error));
        }
      } finally {
        this.pendingUser = null;
        this.controller = null;
        this.setBusy(false);
        this.loadThreads();
      }
    }

    /** Apply one stream event; returns the assistant bubble being written, if any. */
    handleEvent(event) {
      switch (event.type) {
        case "thread.created":
        case "thread.updated":
          this.threadId = event.thread.id;
          this.threads.set(event.thread.id, event.thread);
          this.renderThreads();
          return null;
        case "thread.item.added":
        case "thread.item.done": {
          const item = event.item;
          if (item.type === "user_message" && this.pendingUser && !this.bubbles.has(item.id)) {
            this.bubbles.set(item.id, this.pendingUser);
            this.pendingUser = null;
            return null;
          }
          this.renderItem(item);
          return item.type === "assistant_message" ? this.bubbles.get(item.id) : null;
        }
        case "thread.item.updated": {
          const update = event.update || {};
          const bubble = this.bubbles.get(event.item_id) || this.addBubble("assistant", [], event.item_id);
          const index = update.content_index || 0;
          if (update.type === "assistant_message.content_part.text_delta") {
            bubble.parts[index] = (bubble.parts[index] || "") + update.delta;
          } else if (update.type === "assistant_message.content_part.added" || update.type === "assistant_message.content_part.done") {
            bubble.parts[index] = (update.content && update.content.text) || bubble.parts[index] || "";
          } else {
            return null;
          }
          this.paint(bubble);
          return bubble;
        }
        case "client_effect":
          this.onEffect(event.name, event.data || {});
          return null;
        case "error":
          this.showError(
            (event.message || "Sorry, something went wrong.") +
              (event.allow_retry ? " You can try again." : ""),
          );
          return null;
        case "notice":
          this.showError(event.message);
          return null;
        case "stream_options":
          this.stopButton.disabled = !(event.stream_options && event.stream_options.allow_cancel);
          return null;
        default:
          return null;
      }
    }

    stop() {
      if (this.controller) this.controller.abort();
    }

    setBusy(busy) {
      this.sendButton.hidden = busy;
      this.stopButton.hidden = !busy;
      this.stopButton.disabled = false;
      this.form.classList.toggle("busy", busy);
      if (!busy) this.input.focus();
    }

    showError(message) {
      this.error.textContent = message || "";
      this.error.hidden = !message;
    }
  }

  Object.assign(global.TodoChat, { FallbackChat, readEvents });
})(window);
