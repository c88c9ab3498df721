/* ChatKit widgets in the built-in client: one small renderer per component of
 * chatkit.widgets (Card, ListView/ListViewItem, Row/Col/Box, Text/Title/Caption,
 * Markdown, Badge, Button, Checkbox, Divider, Spacer, Icon, Image, Form and its
 * inputs). DOM only, text via textContent. A component without a renderer
 * throws, and the chat shows the item's `copy_text` instead. */
(function (global) {
  "use strict";
  const { markdown } = global.TodoChat;

  class UnknownComponent extends Error {}

  const SPACING = 4; // ChatKit's gap/padding unit, in px
  const ICONS = { check: "✓", "check-circle": "✓", "check-circle-filled": "✓", plus: "+", "empty-circle": "○", delete: "✕", trash: "✕", x: "✕", calendar: "📅", star: "★", info: "ℹ", bolt: "⚡", reload: "↻", undo: "↶" };

  function size(value) {
    return typeof value === "number" ? `${value * SPACING}px` : String(value);
  }

  const el = global.TodoChat.make;

  /** The first Title/Text value under a component: a row's subject (the todo's title). */
  function subjectOf(component) {
    if (!component || typeof component !== "object") return "";
    if ((component.type === "Title" || component.type === "Text") && component.value) return String(component.value);
    if (component.type === "Checkbox" && component.label) return String(component.label);
    const children = Array.isArray(component.children) ? component.children : component.children ? [component.children] : [];
    for (const child of children) {
      const found = subjectOf(child);
      if (found) return found;
    }
    return "";
  }

  /** "Complete" + "buy milk" → "Complete “buy milk”"; kept as is when it already names it. */
  function nameWith(label, subject) {
    if (!subject) return label;
    if (!label) return subject;
    return label.toLowerCase().includes(subject.toLowerCase()) ? label : `${label} “${subject}”`;
  }

  function applyBox(node, component, direction) {
    node.classList.add(direction === "row" ? "wg-row" : "wg-col");
    const style = node.style;
    if (component.gap !== undefined && component.gap !== null) style.gap = size(component.gap);
    if (typeof component.padding === "number" || typeof component.padding === "string") style.padding = size(component.padding);
    if (component.align) style.alignItems = { start: "flex-start", end: "flex-end" }[component.align] || component.align;
    if (component.justify) {
      style.justifyContent = { start: "flex-start", end: "flex-end", between: "space-between", around: "space-around", evenly: "space-evenly" }[component.justify] || component.justify;
    }
    if (component.wrap) style.flexWrap = component.wrap;
    if (component.flex !== undefined && component.flex !== null) style.flex = String(component.flex);
  }

  class WidgetRenderer {
    /** onAction({type, payload}, control, values) → Promise; handler "client" actions are ignored. */
    constructor({ onAction }) {
      this.onAction = onAction;
    }

    /** The widget as DOM; throws UnknownComponent for a component we can't draw. */
    render(widget) {
      const root = this.component(widget, { subject: "" });
      root.classList.add("wg-root");
      return root;
    }

    children(component, ctx) {
      const list = Array.isArray(component.children) ? component.children : component.children ? [component.children] : [];
      return list.map((child) => this.component(child, ctx));
    }

    component(component, ctx) {
      const render = component && RENDERERS[component.type];
      if (!render) throw new UnknownComponent(String(component && component.type));
      const node = render.call(this, component, ctx);
      if (component.id) node.dataset.componentId = component.id;
      return node;
    }

    /** Wire a control to an ActionConfig: disabled while the server handles it. */
    bind(control, action, eventName, values) {
      if (!action || action.handler === "client") return;
      control.addEventListener(eventName, async (event) => {
        if (eventName === "submit") event.preventDefault();
        if (control.dataset.pending) return;
        control.dataset.pending = "1";
        control.setAttribute("aria-busy", "true");
        try {
          await this.onAction({ type: action.type, payload: action.payload ?? null }, control, values ? values() : null);
        } finally {
          delete control.dataset.pending;
          control.removeAttribute("aria-busy");
        }
      });
    }
  }

  function formValues(form) {
    const values = {};
    for (const field of form.querySelectorAll("[name]")) {
      if (field.type === "checkbox") values[field.name] = field.checked;
      else if (field.type === "radio") {
        if (field.checked) values[field.name] = field.value;
      } else values[field.name] = field.value;
    }
    return values;
  }

  function box(direction) {
    return function (component, ctx) {
      const node = el("div", "wg-box");
      applyBox(node, component, direction || component.direction || "col");
      node.append(...this.children(component, ctx));
      return node;
    };
  }

  function textual(tag, className) {
    return function (component) {
      const node = el(tag, className, component.value);
      if (component.weight) node.classList.add(`wg-weight-${component.weight}`);
      if (component.size) node.classList.add(`wg-size-${component.size}`);
      if (component.italic) node.classList.add("wg-italic");
      if (component.lineThrough) node.classList.add("wg-strike");
      if (component.truncate) node.classList.add("wg-truncate");
      if (component.textAlign) node.style.textAlign = component.textAlign;
      if (typeof component.color === "string") node.classList.add(`wg-text-${component.color}`);
      return node;
    };
  }

  function field(component, control, subject) {
    control.name = component.name;
    if (component.placeholder) control.placeholder = component.placeholder;
    if (component.required) control.required = true;
    if (component.disabled) control.disabled = true;
    control.setAttribute("aria-label", nameWith(component.placeholder || component.name, subject));
    return control;
  }

  const RENDERERS = {
    Basic: box("col"),
    Box: box(null),
    Row: box("row"),
    Col: box("col"),
    Transition: box("col"),
    Card(component, ctx) {
      const card = el(component.asForm ? "form" : "div", "wg-card");
      if (component.size) card.classList.add(`wg-card-${component.size}`);
      card.append(...this.children(component, ctx));
      const buttons = [component.confirm, component.cancel].filter(Boolean).map((choice, index) => {
        const button = el("button", "button" + (index === 0 ? " primary" : ""), choice.label);
        button.type = "button";
        this.bind(button, choice.action, "click", component.asForm ? () => formValues(card) : null);
        return button;
      });
      if (buttons.length) {
        const footer = el("div", "wg-card-actions");
        footer.append(...buttons);
        card.append(footer);
      }
      if (component.asForm) card.addEventListener("submit", (event) => event.preventDefault());
      return card;
    },
    ListView(component, ctx) {
      const wrap = el("div", "wg-listview");
      if (component.status && component.status.text) wrap.append(el("p", "wg-status", component.status.text));
      const list = el("ul", "wg-list");
      list.append(...this.children(component, ctx));
      wrap.append(list);
      return wrap;
    },
    ListViewItem(component) {
      const subject = subjectOf(component);
      const item = el("li", "wg-item");
      item.dataset.subject = subject;
      const body = el("div", "wg-item-body");
      applyBox(body, component, "row");
      body.append(...this.children(component, { subject }));
      const interactive = body.querySelector("button, input, select, textarea, a");
      if (component.onClickAction && !interactive) {
        const button = el("button", "wg-item-button");
        button.type = "button";
        button.append(body);
        this.bind(button, component.onClickAction, "click");
        item.append(button);
      } else {
        item.append(body);
      }
      return item;
    },
    Text: textual("p", "wg-text"),
    Title: textual("p", "wg-title"),
    Caption: textual("p", "wg-caption"),
    Label: textual("span", "wg-label"),
    Markdown(component) {
      const node = el("div", "wg-markdown md");
      node.append(markdown.render(component.value));
      return node;
    },
    Badge(component) {
      const node = el("span", "badge wg-badge", component.label);
      if (component.color) node.classList.add(`wg-color-${component.color}`);
      return node;
    },
    Icon(component) {
      const node = el("span", "wg-icon", ICONS[component.name] || "•");
      node.setAttribute("aria-hidden", "true");
      return node;
    },
    Image(component) {
      if (!/^(https?:|data:image\/)/i.test(String(component.src || ""))) return el("span", "wg-image-missing");
      const image = el("img", "wg-image");
      image.src = component.src;
      image.alt = component.alt || "";
      return image;
    },
    Divider() {
      return el("hr", "wg-divider");
    },
    Spacer() {
      return el("div", "wg-spacer");
    },
    Button(component, ctx) {
      const label = component.label || (component.iconStart || component.iconEnd || "").replace(/-/g, " ");
      const button = el("button", "button wg-button");
      button.type = component.submit ? "submit" : "button";
      if (component.style === "primary" || component.color === "primary") button.classList.add("primary");
      if (component.color) button.classList.add(`wg-tone-${component.color}`);
      if (component.variant) button.classList.add(`wg-variant-${component.variant}`);
      if (component.size) button.classList.add(`wg-control-${component.size}`);
      // In a row, "Delete “buy milk”" shows as "Delete": the row already says which todo.
      const quoted = ctx.subject ? `“${ctx.subject}”` : null;
      const shown = component.label && quoted && component.label.includes(quoted) ? component.label.replace(quoted, "").trim() : component.label;
      if (component.iconStart) button.append(RENDERERS.Icon({ name: component.iconStart }));
      if (shown) button.append(document.createTextNode(shown));
      if (component.iconEnd) button.append(RENDERERS.Icon({ name: component.iconEnd }));
      const name = nameWith(label.charAt(0).toUpperCase() + label.slice(1), ctx.subject);
      if (name !== shown) button.setAttribute("aria-label", name);
      if (component.disabled) button.disabled = true;
      if (!component.submit) this.bind(button, component.onClickAction, "click");
      return button;
    },
    Checkbox(component, ctx) {
      const label = el("label", "wg-checkbox");
      const box = el("input");
      box.type = "checkbox";
      box.name = component.name;
      box.checked = Boolean(component.defaultChecked);
      box.disabled = Boolean(component.disabled);
      const name = component.label ? nameWith(component.label, ctx.subject) : ctx.subject;
      if (name) box.setAttribute("aria-label", name);
      label.append(box);
      if (component.label) label.append(el("span", "", component.label));
      this.bind(box, component.onChangeAction, "change");
      return label;
    },
    Form(component, ctx) {
      const form = el("form", "wg-form");
      applyBox(form, component, component.direction || "col");
      form.append(...this.children(component, ctx));
      this.bind(form, component.onSubmitAction, "submit", () => formValues(form));
      return form;
    },
    Input(component, ctx) {
      const input = field(component, el("input", "wg-input"), ctx.subject);
      input.type = component.inputType || "text";
      if (component.defaultValue) input.value = component.defaultValue;
      return input;
    },
    Textarea(component, ctx) {
      const area = field(component, el("textarea", "wg-input"), ctx.subject);
      if (component.defaultValue) area.value = component.defaultValue;
      area.rows = component.rows || 3;
      return area;
    },
    DatePicker(component, ctx) {
      const input = field(component, el("input", "wg-input"), ctx.subject);
      input.type = "date";
      if (component.defaultValue) input.value = String(component.defaultValue).slice(0, 10);
      this.bind(input, component.onChangeAction, "change", () => ({ [component.name]: input.value }));
      return input;
    },
    Select(component, ctx) {
      const select = field(component, el("select", "wg-input"), ctx.subject);
      for (const option of component.options || []) {
        const choice = el("option", "", option.label);
        choice.value = option.value;
        choice.disabled = Boolean(option.disabled);
        select.append(choice);
      }
      if (component.defaultValue) select.value = component.defaultValue;
      this.bind(select, component.onChangeAction, "change", () => ({ [component.name]: select.value }));
      return select;
    },
  };

  /** Apply a `thread.item.updated` widget update to a widget tree (returns the new tree). */
  function applyWidgetUpdate(widget, update) {
    if (update.type === "widget.root.updated") return update.widget;
    const visit = (component) => {
      if (!component || typeof component !== "object") return component;
      if (component.id === update.component_id) {
        if (update.type === "widget.component.updated") return update.component;
        if (update.type === "widget.streaming_text.value_delta") {
          return { ...component, value: (component.value || "") + update.delta };
        }
      }
      if (Array.isArray(component.children)) return { ...component, children: component.children.map(visit) };
      if (component.children) return { ...component, children: visit(component.children) };
      return component;
    };
    return visit(widget);
  }

  /** Where focus was inside a widget, to put it back after a re-render: (row subject, control index). */
  function focusKey(root) {
    const active = document.activeElement;
    if (!root || !active || !root.contains(active)) return null;
    const controls = [...root.querySelectorAll("button, input, select, textarea")];
    const row = active.closest(".wg-item");
    const inRow = row ? [...row.querySelectorAll("button, input, select, textarea")] : controls;
    return { subject: row ? row.dataset.subject : null, index: inRow.indexOf(active), rowIndex: row ? [...root.querySelectorAll(".wg-item")].indexOf(row) : -1 };
  }

  function restoreFocus(root, key) {
    if (!key) return;
    const rows = [...root.querySelectorAll(".wg-item")];
    let row = key.subject !== null ? rows.find((candidate) => candidate.dataset.subject === key.subject) : null;
    // The row is gone (deleted): the one that took its place, else the last one.
    if (!row && key.rowIndex >= 0) row = rows[Math.min(key.rowIndex, rows.length - 1)];
    const scope = row || root;
    const controls = [...scope.querySelectorAll("button:not([disabled]), input:not([disabled]), select, textarea")];
    const target = controls[Math.max(0, Math.min(key.index, controls.length - 1))];
    if (target) target.focus();
    else {
      root.tabIndex = -1;
      root.focus();
    }
  }

  Object.assign(global.TodoChat, { WidgetRenderer, UnknownComponent, applyWidgetUpdate, focusKey, restoreFocus });
})(window);
