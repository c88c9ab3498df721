/* One todo as a list row (a single tab stop; its controls are for the mouse,
 * the row's keys do the same) and its inline edit form. DOM only. */
(function (global) {
  "use strict";

  const el = global.TodoChat.make;

  /** "due Jan 5", "due today", "overdue · due Jan 3": as the chat's todo widgets say it. */
  function dueText(dueDate, completed = false) {
    const date = new Date(`${dueDate}T00:00:00`);
    if (Number.isNaN(date.getTime())) return `due ${dueDate}`;
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    if (date.getTime() === today.getTime()) return "due today";
    const options = { day: "numeric", month: "short" };
    if (date.getFullYear() !== today.getFullYear()) options.year = "numeric";
    const text = `due ${date.toLocaleDateString([], options)}`;
    return date < today && !completed ? `overdue · ${text}` : text;
  }

  function dueClass(dueDate, completed) {
    const text = dueText(dueDate, completed);
    if (text === "due today") return "badge due-today";
    return text.startsWith("overdue") ? "badge overdue" : "badge";
  }

  function todoRow(todo) {
    const item = el("li", "todo" + (todo.completed ? " done" : ""));
    item.dataset.todoId = String(todo.id);
    item.dataset.completed = String(todo.completed);
    item.tabIndex = 0;
    item.setAttribute("aria-describedby", "todo-keys");
    const state = [todo.completed ? "done" : "open"];
    if (todo.priority && todo.priority !== "medium") state.push(`${todo.priority} priority`);
    if (todo.due_date) state.push(dueText(todo.due_date, todo.completed));
    item.setAttribute("aria-label", `${todo.title}, ${state.join(", ")}`);

    const box = el("input", "todo-check");
    box.type = "checkbox";
    box.checked = todo.completed;
    box.tabIndex = -1;
    box.setAttribute("aria-label", `${todo.completed ? "Reopen" : "Complete"} “${todo.title}”`);

    const body = el("div", "todo-body");
    const title = el("span", "todo-title", todo.title);
    body.append(title);
    if (todo.description) body.append(el("span", "todo-description", todo.description));
    const meta = el("span", "todo-meta");
    if (todo.priority && todo.priority !== "medium") meta.append(el("span", `badge priority-${todo.priority}`, todo.priority));
    if (todo.due_date) meta.append(el("span", dueClass(todo.due_date, todo.completed), dueText(todo.due_date, todo.completed)));
    if (meta.childNodes.length) body.append(meta);

    const actions = el("span", "todo-actions");
    for (const [action, glyph, label] of [
      ["edit", "✎", `Edit “${todo.title}”`],
      ["delete", "×", `Delete “${todo.title}”`],
    ]) {
      const button = el("button", `icon-button todo-${action}`, glyph);
      button.type = "button";
      button.tabIndex = -1;
      button.dataset.action = action;
      button.setAttribute("aria-label", label);
      button.title = action === "edit" ? "Edit" : "Delete";
      actions.append(button);
    }
    item.append(box, body, actions);
    return item;
  }

  function labelled(text, control) {
    const label = el("label", "todo-field");
    label.append(el("span", "", text), control);
    return label;
  }

  function todoEditForm(todo) {
    const form = el("form", "todo-edit");
    form.setAttribute("aria-label", `Edit “${todo.title}”`);
    const title = el("input");
    title.type = "text";
    title.name = "title";
    title.required = true;
    title.maxLength = 200;
    title.value = todo.title;
    const description = el("textarea");
    description.name = "description";
    description.rows = 2;
    description.value = todo.description || "";
    const due = el("input");
    due.type = "date";
    due.name = "due_date";
    due.value = todo.due_date || "";
    const priority = el("select");
    priority.name = "priority";
    for (const value of ["low", "medium", "high"]) {
      const option = el("option", "", value);
      option.value = value;
      option.selected = value === todo.priority;
      priority.append(option);
    }
    const row = el("div", "todo-edit-row");
    row.append(labelled("Due", due), labelled("Priority", priority));
    const save = el("button", "button primary small-button", "Save");
    save.type = "submit";
    const cancel = el("button", "button small-button", "Cancel");
    cancel.type = "button";
    cancel.dataset.action = "cancel";
    const buttons = el("div", "todo-edit-buttons");
    buttons.append(save, cancel);
    form.append(labelled("Title", title), labelled("Description", description), row, buttons);
    return form;
  }

  Object.assign(global.TodoChat, { todoRow, todoEditForm });
})(window);
