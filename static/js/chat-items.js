/* How the built-in chat client draws a thread's items: user messages (with their
 * attachments), answers as safe Markdown with thumbs (items.feedback) and Copy,
 * widgets (or their copy_text), questions (structured input) as buttons, and the
 * progress line while a tool runs. ChatView's methods, mixed in by chat.js. */
(function (global) {
  "use strict";
  const { el, focusKey, friendlyError, markdown, restoreFocus } = global.TodoChat;

  function userText(item) {
    return (item.content || [])
      .filter((part) => part.type === "input_text" || part.type === "input_tag")
      .map((part) => part.text)
      .join("");
  }

  /** ChatView's methods that draw items (all text through textContent or markdown.render). */
  const ChatItems = {
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
    },

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
    },

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
    },

    async feedback(itemId, kind, buttons) {
      if (!this.threadId) return;
      try {
        await this.api.request({ type: "items.feedback", params: { thread_id: this.threadId, item_ids: [itemId], kind } });
        for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.kind === kind));
        this.announce(kind === "positive" ? "Thanks for the feedback." : "Thanks: we'll look into that answer.");
      } catch (error) {
        this.showError(friendlyError(error));
      }
    },

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
    },

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
    },

    /** The line saying what the assistant is doing right now (progress_update). */
    showProgress(text) {
      if (!this.progress) {
        this.progress = el("p", { class: "fc-progress muted small", dataset: { testid: "chat-progress" } });
        this.log.append(this.progress);
      }
      this.progress.textContent = text;
      this.log.append(this.progress); // stays the last line while items arrive
      this.scrollDown();
    },

    clearProgress() {
      if (this.progress) this.progress.remove();
      this.progress = null;
    },

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
    },
  };

  Object.assign(global.TodoChat, { ChatItems });
})(window);
