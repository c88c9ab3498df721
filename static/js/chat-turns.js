/* Turns in the built-in chat client: send (a message kept for a resend under the
 * same Idempotency-Key, given back when never stored), Retry, widget actions
 * (threads.custom_action), answers to questions and to the client tool
 * get_local_date, the stream of one request and its events (chat-events.js), Stop,
 * and the countdown of a rate limit. ChatView's methods, mixed in by chat.js. */
(function (global) {
  "use strict";
  const { ApiError, apiFetch, applyEvent, el, friendlyError } = global.TodoChat;

  /** A fresh key naming one message, so a resend of it is never a second turn. */
  function messageKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs https
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  /** ChatView's methods that run turns. */
  const ChatTurns = {
    /** threads.add_structured_input: the chosen value (null: skipped); the server acts on it. */
    async answerQuestion(item, input, values) {
      if (this.controller || !this.threadId) return;
      this.input.focus(); // the buttons go away with the answer
      const submission = values ? { status: "answered", answers: { [input.id]: { values } } } : { status: "skipped", answers: {} };
      await this.run({ type: "threads.add_structured_input", params: { thread_id: this.threadId, item_id: item.id, input: submission } });
    },

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
    },

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
    },

    retry(itemId) {
      if (this.controller) return;
      this.input.focus(); // the Retry button goes away with the error line
      this.removeItemsAfter(itemId);
      this.run({ type: "threads.retry_after_item", params: { thread_id: this.threadId, item_id: itemId } }, { retryItem: itemId });
    },

    /** A widget control was used: threads.custom_action, the widget updated in place. */
    async action(control, action, values) {
      const frame = control.closest("[data-item-id]");
      if (!frame || !this.threadId) return;
      const payload = values ? { ...(action.payload || {}), ...values } : action.payload;
      const params = { thread_id: this.threadId, item_id: frame.dataset.itemId, action: { type: action.type, payload } };
      if (this.controller) {
        // Used while a turn still streams (or a just-opened thread is checked for one):
        // sent, in order, once it has ended, so a tick or a click is never lost.
        this.queuedActions.push(params);
        return;
      }
      await this.run({ type: "threads.custom_action", params }, { quiet: true });
    },

    /** The oldest widget action used while busy, unless its thread was left since. */
    sendQueuedAction() {
      const params = this.queuedActions.shift();
      if (!params) return;
      if (params.thread_id !== this.threadId) {
        this.sendQueuedAction();
        return;
      }
      this.run({ type: "threads.custom_action", params }, { quiet: true }); // its end sends the next
    },

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
      if (!this.controller) this.sendQueuedAction();
      return turn;
    },

    handleEvent(event, turn) {
      applyEvent(this, event, turn);
    },

    /** Stop listening to the running turn (which goes on, stored as it goes). */
    detach() {
      if (this.controller) this.controller.abort();
    },

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
    },

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
    },
  };

  Object.assign(global.TodoChat, { ChatTurns });
})(window);
