/* Page layout: on a phone, todos and chat are two views one tap apart (the
 * tabs); the skip link goes straight to the chat's composer on any width. */
(function (global) {
  "use strict";

  const VIEW_KEY = "todochat.view";

  class Layout {
    constructor({ workspace, tabs, skipLink }) {
      this.workspace = workspace;
      this.tabs = [...tabs.querySelectorAll("button[data-view]")];
      for (const tab of this.tabs) tab.addEventListener("click", () => this.show(tab.dataset.view));
      skipLink.addEventListener("click", (event) => {
        event.preventDefault();
        this.show("chat");
        const target = document.getElementById("chat-input") || document.getElementById("chat-panel");
        target.focus();
      });
      this.show(this.remembered() || this.workspace.dataset.view || "todos");
    }

    remembered() {
      try {
        return global.sessionStorage.getItem(VIEW_KEY);
      } catch (_) {
        return null;
      }
    }

    /** Which view a phone shows ("todos" or "chat"); wide screens show both. */
    show(view) {
      if (view !== "todos" && view !== "chat") return;
      this.workspace.dataset.view = view;
      try {
        global.sessionStorage.setItem(VIEW_KEY, view); // a reload keeps the view
      } catch (_) {
        // Not remembered: the page still works.
      }
      for (const tab of this.tabs) tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
    }
  }

  Object.assign(global.TodoChat, { Layout });
})(window);
