/* How the built-in client applies ChatKit stream events: thread created or
 * renamed, items added, done, replaced, removed or updated (answer text deltas,
 * widget updates), progress lines, client effects, errors and notices; a pending
 * client tool call or question is noted for the view to handle once the stream ends. */
(function (global) {
  "use strict";
  const { applyWidgetUpdate } = global.TodoChat;

  /** Apply one stream event to the chat view (`turn`: what this request has seen so far). */
  function applyEvent(view, event, turn) {
    switch (event.type) {
      case "thread.created":
      case "thread.updated":
        if (event.type === "thread.created" || !view.threadId) view.setThread(event.thread.id);
        view.threads.upsert(event.thread);
        return;
      case "thread.item.added":
      case "thread.item.done":
      case "thread.item.replaced": {
        const item = event.item;
        if (item.type === "user_message" && turn.pending && !view.items.has(item.id)) {
          turn.pending.classList.remove("pending");
          turn.pending.dataset.itemId = item.id;
          view.items.set(item.id, { item, node: turn.pending });
          turn.userItem = item.id;
          return;
        }
        if (item.type === "widget") turn.widgetSeen = true;
        if (item.type === "client_tool_call" && item.status === "pending") turn.clientToolCall = item;
        if (item.type === "structured_input" && item.status === "pending") turn.question = item;
        const node = view.renderItem(item);
        if (node && item.type === "assistant_message") {
          turn.streaming = event.type === "thread.item.done" ? null : view.items.get(item.id);
          node.setAttribute("aria-busy", String(event.type !== "thread.item.done"));
        }
        view.scrollDown();
        return;
      }
      case "thread.item.removed": {
        const entry = view.items.get(event.item_id);
        if (entry) entry.node.remove();
        view.items.delete(event.item_id);
        return;
      }
      case "thread.item.updated":
        applyUpdate(view, event.item_id, event.update || {}, turn);
        return;
      case "progress_update":
        view.showProgress(event.text || "Working…");
        return;
      case "client_effect":
        view.onEffect(event.name, event.data || {});
        return;
      case "error":
        turn.failed = true;
        // A saved error card (a widget) carries its own "Try again".
        view.showError(event.message || "Sorry, something went wrong.", {
          retryItem: event.allow_retry && !turn.widgetSeen ? turn.userItem : null,
        });
        return;
      case "notice":
        view.showError(event.message, { level: "notice" });
        return;
      case "stream_options":
        view.stopButton.disabled = !(event.stream_options && event.stream_options.allow_cancel);
        return;
      default:
    }
  }

  /** A `thread.item.updated`: widget updates redraw the widget, text deltas grow the answer. */
  function applyUpdate(view, itemId, update, turn) {
    const entry = view.items.get(itemId);
    if (!entry) return;
    const { item } = entry;
    if (item.type === "widget") {
      view.renderItem({ ...item, widget: applyWidgetUpdate(item.widget, update) });
      return;
    }
    if (item.type !== "assistant_message") return;
    const content = (item.content = item.content || []);
    const index = update.content_index || 0;
    while (content.length <= index) content.push({ type: "output_text", text: "", annotations: [] });
    if (update.type === "assistant_message.content_part.text_delta") content[index].text += update.delta;
    else if (update.content) content[index] = update.content;
    else return;
    view.renderItem(item).setAttribute("aria-busy", "true");
    turn.streaming = view.items.get(itemId);
    view.scrollDown();
  }

  Object.assign(global.TodoChat, { applyEvent });
})(window);
