/* The todo list: pages of /api/todos/ ("Load more"), counts from
 * /api/todos/stats/, an open/done filter, inline edits, undo after delete, one
 * tab stop per row with keys for its actions, kept in sync by /ws/todos/. */
(function (global) {
  "use strict";
  const { apiFetch, friendlyError, onRowKey, editInline } = global.TodoChat;

  const PAGE_SIZE = 50;
  const UNDO_MS = 10000;
  const FILTERS = { all: null, open: false, done: true };

  function newestFirst(a, b) {
    if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
    return b.id - a.id;
  }

  const el = global.TodoChat.make;

  class TodoList {
    constructor({ todosUrl, statsUrl, list, form, input, error, count, empty, more, filters, undo, announce }) {
      this.url = todosUrl;
      this.statsUrl = statsUrl;
      this.els = { list, form, input, error, count, empty, more, filters, undo };
      this.announce = announce || (() => {});
      this.todos = new Map();
      this.filter = "all";
      this.next = null;
      this.loaded = false;
      this.refreshing = null;
      this.editing = null;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.add(input.value);
      });
      more.addEventListener("click", () => this.loadMore());
      filters.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-filter]");
        if (button) this.setFilter(button.dataset.filter);
      });
      list.addEventListener("change", (event) => {
        const box = event.target.closest("input.todo-check");
        if (box) this.setCompleted(this.idOf(box), box.checked);
      });
      list.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-action]");
        if (!button) return;
        const id = this.idOf(button);
        if (button.dataset.action === "delete") this.remove(id);
        else if (button.dataset.action === "edit") this.edit(id);
      });
      list.addEventListener("keydown", (event) => this.onKey(event));
    }

    idOf(node) {
      return Number(node.closest("li[data-todo-id]").dataset.todoId);
    }

    matches(todo) {
      const wanted = FILTERS[this.filter];
      return wanted === null || todo.completed === wanted;
    }

    query(extra = "") {
      const wanted = FILTERS[this.filter];
      const filter = wanted === null ? "" : `&completed=${wanted}`;
      return `${this.url}?page_size=${PAGE_SIZE}${filter}${extra}`;
    }

    setFilter(name) {
      if (!(name in FILTERS) || name === this.filter) return;
      this.filter = name;
      for (const button of this.els.filters.querySelectorAll("button[data-filter]")) {
        button.setAttribute("aria-pressed", String(button.dataset.filter === name));
      }
      this.todos.clear();
      this.loaded = false;
      this.refresh();
    }

    /** Reload what is shown (page load, reconnects, the assistant's client effect). */
    refresh() {
      // Calls that arrive while one runs share it, then one more runs, so a
      // change made during a fetch is never missed.
      if (this.refreshing) {
        this.again = true;
        return this.refreshing;
      }
      this.refreshing = (async () => {
        try {
          // As many as were on screen, so "Load more" pages stay loaded.
          const wanted = Math.max(PAGE_SIZE, this.todos.size);
          const todos = new Map();
          let url = this.query();
          let next = null;
          while (url) {
            const page = await apiFetch(url);
            for (const todo of page.results) todos.set(todo.id, todo);
            next = page.next;
            url = todos.size < wanted ? next : null;
          }
          this.todos = todos;
          this.next = next;
          this.loaded = true;
          this.showError(null);
          this.render();
          this.loadCounts();
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

    async loadMore() {
      if (!this.next) return;
      const { more } = this.els;
      more.disabled = true;
      const firstNew = [];
      try {
        const page = await apiFetch(this.next);
        for (const todo of page.results) {
          if (!this.todos.has(todo.id)) firstNew.push(todo.id);
          this.todos.set(todo.id, todo);
        }
        this.next = page.next;
        this.render();
        this.announce(`Showing ${this.todos.size} todos.`);
        if (firstNew.length) this.focusRow(firstNew[0]);
      } catch (error) {
        this.showError(friendlyError(error));
      } finally {
        more.disabled = false;
      }
    }

    /** Counts come from the server: they include todos not loaded yet. */
    async loadCounts() {
      try {
        const counts = await apiFetch(this.statsUrl);
        this.els.count.textContent = counts.total ? `${counts.open} open · ${counts.done} done` : "";
      } catch (_) {
        // The list itself reports errors; a missing count is not one more.
      }
    }

    /** Apply one websocket event: {"type": "todo.created|updated|deleted", "todo": {...}}. */
    apply(message) {
      if (!message || !message.todo) return;
      const { todo } = message;
      if (message.type === "todo.deleted") this.todos.delete(todo.id);
      else if (message.type === "todo.created" || message.type === "todo.updated") {
        if (this.matches(todo)) this.upsert(todo);
        else this.todos.delete(todo.id);
      } else return;
      this.render();
      this.loadCounts();
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
        const todo = await apiFetch(this.url, { method: "POST", body: { title } });
        if (this.matches(todo)) this.upsert(todo);
        input.value = "";
        this.showError(null);
        this.render();
        this.loadCounts();
        this.announce(`Added “${todo.title}”.`);
      } catch (error) {
        this.showError(friendlyError(error));
      } finally {
        form.classList.remove("busy");
        input.focus();
      }
    }

    async patch(id, fields) {
      const todo = this.todos.get(id);
      if (!todo) return null;
      this.todos.set(id, { ...todo, ...fields });
      this.render();
      try {
        const saved = await apiFetch(`${this.url}${id}/`, { method: "PATCH", body: fields });
        if (this.matches(saved)) this.upsert(saved);
        else this.todos.delete(id);
        this.showError(null);
        this.render();
        this.loadCounts();
        return saved;
      } catch (error) {
        this.todos.set(id, todo);
        this.showError(friendlyError(error));
        this.render();
        return null;
      }
    }

    async setCompleted(id, completed) {
      const saved = await this.patch(id, { completed });
      if (saved) this.announce(`${completed ? "Completed" : "Reopened"} “${saved.title}”.`);
    }

    async remove(id) {
      const todo = this.todos.get(id);
      if (!todo) return;
      const order = this.sorted().map((known) => known.id);
      const index = order.indexOf(id);
      const hadFocus = this.els.list.contains(document.activeElement);
      this.todos.delete(id);
      this.render();
      if (hadFocus) {
        const next = order[index + 1] ?? order[index - 1];
        if (next !== undefined && this.todos.has(next)) this.focusRow(next);
        else this.els.input.focus();
      }
      try {
        await apiFetch(`${this.url}${id}/`, { method: "DELETE" });
        this.showError(null);
        this.loadCounts();
        this.offerUndo(todo);
      } catch (error) {
        // Already gone (another tab, the assistant) is what we wanted anyway.
        if (error.status !== 404) {
          this.todos.set(id, todo);
          this.showError(friendlyError(error));
          this.render();
        }
      }
    }

    /** "Deleted “x”. Undo": brings it back (as a new todo with the same fields). */
    offerUndo(todo) {
      const { undo } = this.els;
      clearTimeout(this.undoTimer);
      const button = el("button", "link-button", "Undo");
      button.type = "button";
      button.setAttribute("aria-label", `Undo deleting “${todo.title}”`);
      undo.replaceChildren(el("span", "", `Deleted “${todo.title}”.`), button);
      undo.hidden = false;
      this.announce(`Deleted “${todo.title}”. Undo is available.`);
      button.addEventListener("click", async () => {
        undo.hidden = true;
        const { title, description, priority, due_date: dueDate, completed } = todo;
        try {
          const restored = await apiFetch(this.url, { method: "POST", body: { title, description, priority, due_date: dueDate, completed } });
          if (this.matches(restored)) this.upsert(restored);
          this.render();
          this.loadCounts();
          this.announce(`Restored “${restored.title}”.`);
          this.focusRow(restored.id);
        } catch (error) {
          this.showError(friendlyError(error));
        }
      });
      this.undoTimer = setTimeout(() => {
        if (!undo.contains(document.activeElement)) undo.hidden = true;
      }, UNDO_MS);
    }

    showError(message) {
      this.els.error.textContent = message || "";
      this.els.error.hidden = !message;
    }

    sorted() {
      return [...this.todos.values()].sort(newestFirst);
    }

    focusRow(id) {
      const row = this.els.list.querySelector(`li[data-todo-id="${id}"]`);
      if (row) row.focus();
    }

    render() {
      const { list, empty, more } = this.els;
      const focused = document.activeElement;
      const focusedRow = list.contains(focused) ? focused.closest("li[data-todo-id]") : null;
      const keep = focusedRow && focused === focusedRow ? Number(focusedRow.dataset.todoId) : null;
      if (this.editing !== null && list.contains(focused)) return; // don't wipe a form being filled
      const todos = this.sorted();
      list.replaceChildren(...todos.map((todo) => global.TodoChat.todoRow(todo)));
      more.hidden = !this.next;
      empty.hidden = !this.loaded || todos.length > 0;
      empty.textContent = this.filter === "all" ? empty.dataset.all : `No ${this.filter} todos.`;
      if (keep !== null) this.focusRow(keep);
    }

    onKey(event) {
      onRowKey(this, event);
    }

    edit(id) {
      editInline(this, id);
    }
  }

  Object.assign(global.TodoChat, { TodoList });
})(window);
