/* DOM builders shared by the page's modules. Text always goes in through
 * textContent (or as child nodes), never as HTML. */
(function (global) {
  "use strict";

  /** An element with props (class, dataset, properties, else attributes) and children. */
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

  /** An element with an optional class and text. */
  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  global.TodoChat = Object.assign(global.TodoChat || {}, { el, make });
})(window);
