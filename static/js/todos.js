/* The todo list: rendered from /api/todos/, edited inline (session + CSRF), and
 * kept in sync by /ws/todos/ events from any tab, the admin or the assistant. */
(function (global) {
  "use strict";
  const { apiFetch, friendlyError } = global.TodoChat;

  function newestFirst(a, b) {
    if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
    return b.id - a.id;
  }

  class TodoList {
    constructor({ todosUrl, list, form, input, error, count, empty }) {
      this.url = todosUrl;
      this.els = { list, form, input, error, count, empty };
      this.todos = new Map();
      this.loaded = false;
      this.refreshing = null;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.add(input.value);
      });
      list.addEventListener("change", (event) => {
        const box = event.target.closest("input[type=checkbox]");
        if (box) this.setCompleted(Number(box.closest("li").dataset.todoId), box.checked);
      });
      list.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-action=delete]");
        if (button) this.remove(Number(button.closest("li").dataset.todoId));
      });
    }

    /** Reload the whole list (page load, reconnects, the assistant's client effect). */
    refresh() {
      // Calls that arrive while one is running share it, then one more runs,
      // so a change made during a fetch is never missed.
      if (this.refreshing) {
        this.again = true;
        return this.refreshing;
      }
      this.refreshing = (async () => {
        try {
          const page = await apiFetch(`${this.url}?page_size=100`);
          this.todos = new Map(page.results.map((todo) => [todo.id, todo]));
          this.loaded = true;
          this.showError(null);
          this.render();
        } catch (error) {
          this.showError(friendlyError(error));
        } finally {
          this.refreshing = null;
          if (this.again) {
            this.again = false;
            this.refresh();
          }
        }
      })();
      return this.refreshing;
    }

    /** Apply one websocket event: {"type": "todo.created|updated|deleted", "todo": {...}}. */
    apply(message) {
      if (!message || !message.todo) return;
      if (message.type === "todo.deleted") this.todos.delete(message.todo.id);
      else if (message.type === "todo.created" || message.type === "todo.updated") this.upsert(message.todo);
      else return;
      this.render();
    }

    upsert(todo) {
      const known = this.todos.get(todo.id);
      // Replies and events can cross: keep the newest version of a todo.
      if (!known || known.updated_at <= todo.updated_at) this.todos.set(todo.id, todo);
    }

    async add(rawTitle) {
      const title = rawTitle.trim();
      if (!title) return;
      const { input, form } = this.els;
      form.classList.add("busy");
      try {
        this.upsert(await apiFetch(this.url, { method: "POST", body: { title } }));
        input.value = "";
        this.showError(null);
        this.render();
      } catch (error) {
        this.showError(friendlyError(error));
      } finally {
        form.classList.remove("busy");
        input.focus();
      }
    }

    async setCompleted(id, completed) {
      const todo = this.todos.get(id);
      if (!todo) return;
      this.todos.set(id, { ...todo, completed });
      this.render();
      try {
        this.upsert(await apiFetch(`${this.url}${id}/`, { method: "PATCH", body: { completed } }));
        this.showError(null);
      } catch (error) {
        this.todos.set(id, todo);
        this.showError(friendlyError(error));
      }
      this.render();
    }

    async remove(id) {
      const todo = this.todos.get(id);
      if (!todo) return;
      this.todos.delete(id);
      this.render();
      try {
        await apiFetch(`${this.url}${id}/`, { method: "DELETE" });
        this.showError(null);
      } catch (error) {
        // Already gone (another tab, the assistant) is what we wanted anyway.
        if (!(error.status === 404)) {
          this.todos.set(id, todo);
          this.showError(friendlyError(error));
          this.render();
        }
      }
    }

    showError(message) {
      this.els.error.textContent = message || "";
      this.els.error.hidden = !message;
    }

    render() {
      const { list, count, empty } = this.els;
      const todos = [...this.todos.values()].sort(newestFirst);
      list.replaceChildren(...todos.map((todo) => this.renderItem(todo)));
      const done = todos.filter((todo) => todo.completed).length;
      count.textContent = todos.length ? `${todos.length - done} open · ${done} done` : "";
      empty.hidden = !this.loaded || todos.length > 0;
    }

    renderItem(todo) {
      const item = document.createElement("li");
      item.className = "todo" + (todo.completed ? " done" : "");
      item.dataset.todoId = String(todo.id);
      item.dataset.completed = String(todo.completed);

      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = todo.completed;
      box.setAttribute("aria-label", `${todo.completed ? "Reopen" : "Complete"} “${todo.title}”`);
      const title = document.createElement("span");
      title.className = "todo-title";
      title.textContent = todo.title;
      label.append(box, title);

      const meta = document.createElement("span");
      meta.className = "todo-meta";
      if (todo.priority && todo.priority !== "medium") {
        const badge = document.createElement("span");
        badge.className = `badge priority-${todo.priority}`;
        badge.textContent = todo.priority;
        meta.append(badge);
      }
      if (todo.due_date) {
        const due = document.createElement("span");
        due.className = "badge";
        due.textContent = `due ${todo.due_date}`;
        meta.append(due);
      }

      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "icon-button";
      remove.dataset.action = "delete";
      remove.setAttribute("aria-label", `Delete “${todo.title}”`);
      remove.title = "Delete";
      remove.textContent = "×";

      item.append(label, meta, remove);
      return item;
    }
  }

  /** /ws/todos/ with reconnects (exponential back-off); reports its state. */
  class LiveSocket {
    constructor({ path, onMessage, onOpen, onState }) {
      this.path = path;
      this.onMessage = onMessage;
      this.onOpen = onOpen;
      this.onState = onState;
      this.attempts = 0;
      this.socket = null;
    }

    connect() {
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
        if (event.code === 4401) {
          this.onState("signed-out");
          return;
        }
        this.onState("offline");
        const delay = Math.min(30000, 500 * 2 ** this.attempts) * (0.75 + Math.random() / 2);
        this.attempts += 1;
        setTimeout(() => this.connect(), delay);
      });
      return this;
    }
  }

  Object.assign(global.TodoChat, { TodoList, LiveSocket });
})(window);
