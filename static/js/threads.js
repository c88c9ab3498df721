/* The built-in client's list of conversations: newest first, paged over
 * `after` ("Show older chats"), dated, renamable and deletable (with an
 * inline confirmation), the open one marked with aria-current. */
(function (global) {
  "use strict";
  const { friendlyError } = global.TodoChat;

  const PAGE = 30;
  const DAY_MS = 86400000;

  const el = global.TodoChat.make;

  function button(className, text, label) {
    const node = el("button", className, text);
    node.type = "button";
    if (label) node.setAttribute("aria-label", label);
    return node;
  }

  /** "14:05" today, "Mon" this week, "28 Nov" this year, else "28 Nov 2025". */
  function shortDate(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return "";
    const now = new Date();
    if (date.toDateString() === now.toDateString()) {
      return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
    if (now - date < 6 * DAY_MS && date < now) return date.toLocaleDateString([], { weekday: "short" });
    const options = { day: "numeric", month: "short" };
    if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
    return date.toLocaleDateString([], options);
  }

  class ThreadList {
    /** onOpen(threadId), onDeleting(threadId) (asked to delete it), onDeleted(threadId), onError(message). */
    constructor(container, { api, onOpen, onDeleting, onDeleted, onError }) {
      this.api = api;
      this.onOpen = onOpen;
      this.onDeleting = onDeleting || (() => {});
      this.onDeleted = onDeleted;
      this.onError = onError;
      this.threads = [];
      this.after = null;
      this.hasMore = false;
      this.activeId = null;
      this.editing = null; // {id, node}: a row being renamed or asking "Delete?", kept by render()
      this.list = el("ul", "fc-thread-list");
      this.list.setAttribute("aria-label", "Conversations");
      this.more = button("link-button fc-more", "Show older chats");
      this.more.hidden = true;
      this.more.addEventListener("click", () => this.load({ more: true }));
      container.append(this.list, this.more);
    }

    async load({ more = false } = {}) {
      try {
        const page = await this.api.listThreads({ after: more ? this.after : null, limit: PAGE });
        const known = new Set(page.data.map((thread) => thread.id));
        this.threads = more ? [...this.threads.filter((t) => !known.has(t.id)), ...page.data] : page.data;
        // The store leaves `after` empty on the last page: fall back to the last id.
        this.after = page.after || (page.data.length ? page.data[page.data.length - 1].id : this.after);
        this.hasMore = Boolean(page.has_more);
        const focusNext = more && document.activeElement === this.more ? page.data[0] : null;
        this.render();
        if (focusNext) this.focusThread(focusNext.id);
      } catch (error) {
        this.onError(friendlyError(error));
      }
    }

    /** Threads changed elsewhere (another tab, worker, the admin): the newest page read
     * again, older pages already shown kept, deleted threads gone. */
    async refresh(deletedIds) {
      try {
        const page = await this.api.listThreads({ after: null, limit: PAGE });
        const fresh = new Set(page.data.map((thread) => thread.id));
        const older = this.threads.filter((thread) => !fresh.has(thread.id) && !deletedIds.has(thread.id));
        this.threads = [...page.data, ...older];
        if (!older.length) {
          this.after = page.after || (page.data.length ? page.data[page.data.length - 1].id : null);
          this.hasMore = Boolean(page.has_more);
        }
        this.render();
      } catch (error) {
        this.onError(friendlyError(error));
      }
    }

    /** A thread created or renamed by a stream: shown first / updated in place. */
    upsert(thread) {
      const index = this.threads.findIndex((known) => known.id === thread.id);
      if (index === -1) this.threads.unshift(thread);
      else this.threads[index] = { ...this.threads[index], ...thread };
      this.render();
    }

    setActive(threadId) {
      this.activeId = threadId;
      this.render();
    }

    focusThread(threadId) {
      const target = this.list.querySelector(`[data-thread-id="${CSS.escape(threadId)}"] .fc-thread`);
      if (target) target.focus();
    }

    render() {
      const focused = document.activeElement;
      const keep = this.list.contains(focused) ? { id: focused.closest("li").dataset.threadId, role: focused.dataset.role } : null;
      // A list refreshed meanwhile (a change in another tab) keeps the row the user is editing.
      const editing = this.editing;
      this.list.replaceChildren(...this.threads.map((thread) => (editing && editing.id === thread.id ? editing.node : this.row(thread))));
      this.more.hidden = !this.hasMore;
      if (editing && editing.node.contains(focused)) {
        focused.focus();
      } else if (keep) {
        const row = this.list.querySelector(`[data-thread-id="${CSS.escape(keep.id)}"]`);
        const target = row && (row.querySelector(`[data-role="${keep.role}"]`) || row.querySelector(".fc-thread"));
        if (target) target.focus();
      }
    }

    row(thread) {
      const title = thread.title || "New chat";
      const item = el("li", "fc-thread-row");
      item.dataset.threadId = thread.id;
      const open = button("fc-thread");
      open.dataset.role = "open";
      if (thread.id === this.activeId) open.setAttribute("aria-current", "true");
      const name = el("span", "fc-thread-title", title);
      const when = el("time", "fc-thread-date", shortDate(thread.created_at));
      when.dateTime = thread.created_at;
      open.append(name, when);
      open.addEventListener("click", () => this.onOpen(thread.id));
      const rename = button("icon-button fc-thread-action", "✎", `Rename “${title}”`);
      rename.dataset.role = "rename";
      rename.addEventListener("click", () => this.startRename(item, thread));
      const remove = button("icon-button fc-thread-action", "×", `Delete “${title}”`);
      remove.dataset.role = "delete";
      remove.addEventListener("click", () => this.confirmDelete(item, thread));
      item.append(open, rename, remove);
      return item;
    }

    startRename(item, thread) {
      const form = el("form", "fc-thread-edit");
      const input = el("input");
      input.type = "text";
      input.maxLength = 200;
      input.required = true;
      input.value = thread.title || "";
      input.setAttribute("aria-label", "Chat name");
      const save = button("button primary small-button", "Save");
      save.type = "submit";
      const cancel = button("button small-button", "Cancel");
      form.append(input, save, cancel);
      item.replaceChildren(form);
      this.editing = { id: thread.id, node: item };
      input.focus();
      input.select();
      const done = () => {
        this.editing = null;
        this.render();
        this.focusThread(thread.id);
      };
      cancel.addEventListener("click", done);
      input.addEventListener("keydown", (event) => {
        if (event.key === "Escape") done();
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const title = input.value.trim();
        if (!title) return;
        try {
          const updated = await this.api.renameThread(thread.id, title);
          const renamed = { title: (updated && updated.title) || title };
          for (const known of this.threads) if (known.id === thread.id) Object.assign(known, renamed);
        } catch (error) {
          this.onError(friendlyError(error));
        }
        done();
      });
    }

    confirmDelete(item, thread) {
      const title = thread.title || "New chat";
      const question = el("span", "fc-confirm-text", `Delete “${title}”?`);
      const yes = button("button danger small-button", "Delete", `Yes, delete “${title}”`);
      const no = button("button small-button", "Keep");
      const box = el("div", "fc-confirm");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", `Delete “${title}”?`);
      box.append(question, yes, no);
      item.replaceChildren(box);
      this.editing = { id: thread.id, node: item };
      no.focus();
      no.addEventListener("click", () => {
        this.editing = null;
        this.render();
        this.focusThread(thread.id);
      });
      box.addEventListener("keydown", (event) => {
        if (event.key === "Escape") no.click();
      });
      yes.addEventListener("click", async () => {
        // By id: a refresh meanwhile may have replaced the list's objects.
        const index = this.threads.findIndex((known) => known.id === thread.id);
        this.editing = null;
        this.onDeleting(thread.id); // its thread.changed "deleted" is this tab's own
        try {
          await this.api.deleteThread(thread.id);
        } catch (error) {
          if (error.status !== 404) {
            this.onError(friendlyError(error));
            this.render();
            return;
          }
        }
        this.threads = this.threads.filter((known) => known.id !== thread.id);
        this.render();
        this.onDeleted(thread.id, title);
        // Focus the chat that took its place in the list, else the one above.
        const next = this.threads[Math.min(index, this.threads.length - 1)];
        if (next) this.focusThread(next.id);
      });
    }
  }

  Object.assign(global.TodoChat, { ThreadList, shortDate });
})(window);
