/* Keyboard and inline editing for the todo list: one tab stop per row with
 * keys for its actions, and the row's edit form (title, description, due date,
 * priority). */
(function (global) {
  "use strict";

  /** Keys on a focused row (its one tab stop): Space ticks, Enter edits, Delete asks to
   * delete, arrows move. Backspace does nothing: it is too easy to press by mistake. */
  function onRowKey(list, event) {
    const row = event.target;
    if (!(row instanceof HTMLElement) || !row.matches("li[data-todo-id]")) return;
    const id = Number(row.dataset.todoId);
    const todo = list.todos.get(id);
    const rows = [...list.els.list.querySelectorAll("li[data-todo-id]")];
    const index = rows.indexOf(row);
    const move = (to) => {
      const target = rows[Math.max(0, Math.min(rows.length - 1, to))];
      if (target) target.focus();
    };
    switch (event.key) {
      case " ":
      case "x":
        list.setCompleted(id, !todo.completed);
        break;
      case "Enter":
      case "e":
      case "F2":
        list.edit(id);
        break;
      case "Delete":
        confirmDelete(list, id);
        break;
      case "ArrowDown":
        move(index + 1);
        break;
      case "ArrowUp":
        move(index - 1);
        break;
      case "Home":
        move(0);
        break;
      case "End":
        move(rows.length - 1);
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  /** Replace a row by its edit form; Save patches, Escape or Cancel puts the row back. */
  function editInline(list, id) {
    const todo = list.todos.get(id);
    const row = list.els.list.querySelector(`li[data-todo-id="${id}"]`);
    if (!todo || !row) return;
    list.editing = id;
    const form = global.TodoChat.todoEditForm(todo);
    row.replaceChildren(form);
    row.classList.add("editing");
    form.querySelector("[name=title]").focus();
    const finish = () => {
      list.editing = null;
      list.render();
      list.focusRow(id);
    };
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        finish();
      }
    });
    form.querySelector("[data-action=cancel]").addEventListener("click", finish);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      event.stopPropagation();
      const data = new FormData(form);
      const fields = {
        title: String(data.get("title") || "").trim(),
        description: String(data.get("description") || ""),
        priority: String(data.get("priority")),
        due_date: data.get("due_date") || null,
      };
      if (!fields.title) return;
      list.editing = null;
      const saved = await list.patch(id, fields);
      if (saved) list.announce(`Saved “${saved.title}”.`);
      list.focusRow(id);
    });
  }

  /** Delete from the keyboard asks first, in the row: its Delete button (focused, so
   * Enter confirms) removes the todo, Keep or Escape puts the row back. */
  function confirmDelete(list, id) {
    const todo = list.todos.get(id);
    const row = list.els.list.querySelector(`li[data-todo-id="${id}"]`);
    if (!todo || !row) return;
    list.editing = id; // a live update must not redraw the question away
    const question = document.createElement("div");
    question.className = "todo-confirm";
    question.setAttribute("role", "group");
    question.setAttribute("aria-label", `Delete “${todo.title}”?`);
    const text = document.createElement("span");
    text.textContent = `Delete “${todo.title}”?`;
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "button danger small-button";
    yes.textContent = "Delete";
    const no = document.createElement("button");
    no.type = "button";
    no.className = "button small-button";
    no.textContent = "Keep";
    question.append(text, yes, no);
    row.replaceChildren(question);
    row.classList.add("confirming");
    yes.focus();
    list.announce(`Delete “${todo.title}”? Enter deletes it, Escape keeps it.`);
    const keep = () => {
      list.editing = null;
      list.render();
      list.focusRow(id);
    };
    question.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        keep();
      }
    });
    no.addEventListener("click", keep);
    yes.addEventListener("click", () => {
      list.editing = null;
      list.remove(id);
    });
  }

  Object.assign(global.TodoChat, { onRowKey, editInline, confirmDelete });
})(window);
