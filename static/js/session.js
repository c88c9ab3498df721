/* The signed-in session as the page sees it: what this browser remembers per
 * user (the open thread, answers the user stopped) and "signed out", announced
 * to every open tab (BroadcastChannel, with a storage event as a fallback). */
(function (global) {
  "use strict";
  const { auth } = global.TodoChat;

  const CHANNEL = "todochat.session";
  const SIGNED_OUT_KEY = "todochat.signedOut";
  const STOPPED_LIMIT = 200;

  /** localStorage that never throws (private modes, quotas, disabled storage). */
  const store = {
    get(key) {
      try {
        return global.localStorage.getItem(key);
      } catch (_) {
        return null;
      }
    },
    set(key, value) {
      try {
        if (value === null) global.localStorage.removeItem(key);
        else global.localStorage.setItem(key, value);
      } catch (_) {
        // Nothing to remember with: the page still works, it just forgets.
      }
    },
  };

  /** Per-user memory: the thread to reopen after a reload, and stopped answers. */
  class Memory {
    constructor(userId) {
      this.threadKey = `todochat.thread.${userId}`;
      this.stoppedKey = `todochat.stopped.${userId}`;
    }

    get threadId() {
      return store.get(this.threadKey);
    }

    /** The current thread id, or null for a new chat (which a reload keeps). */
    set threadId(threadId) {
      store.set(this.threadKey, threadId || null);
    }

    stoppedIds() {
      try {
        const ids = JSON.parse(store.get(this.stoppedKey) || "[]");
        return new Set(Array.isArray(ids) ? ids : []);
      } catch (_) {
        return new Set();
      }
    }

    markStopped(itemId) {
      const ids = [...this.stoppedIds(), itemId].slice(-STOPPED_LIMIT);
      store.set(this.stoppedKey, JSON.stringify([...new Set(ids)]));
    }
  }

  /**
   * Signed-out state: one tab signing out (or any 401 / socket 4401) locks every
   * tab of this browser, with a link to sign in again.
   */
  class SignedOutGuard {
    constructor({ loginUrl, banner, main, signOutForm, onLock }) {
      this.loginUrl = loginUrl;
      this.banner = banner;
      this.main = main;
      this.signOutForm = signOutForm;
      this.onLock = onLock || (() => {});
      this.locked = false;
      this.channel = "BroadcastChannel" in global ? new BroadcastChannel(CHANNEL) : null;
      if (this.channel) {
        this.channel.addEventListener("message", (event) => {
          if (event.data && event.data.type === "signed-out") this.lock();
        });
      }
      global.addEventListener("storage", (event) => {
        if (event.key === SIGNED_OUT_KEY && event.newValue) this.lock();
      });
      if (signOutForm) signOutForm.addEventListener("submit", () => this.announce());
      auth.onSignedOut = () => this.lock();
    }

    /** Tell the other tabs before this one leaves (the form then posts as usual). */
    announce() {
      if (this.channel) this.channel.postMessage({ type: "signed-out" });
      store.set(SIGNED_OUT_KEY, String(Date.now()));
    }

    lock() {
      if (this.locked) return;
      this.locked = true;
      document.body.classList.add("signed-out");
      // Already signed out: no "Sign out" left to press (the banner signs in again).
      if (this.signOutForm) this.signOutForm.hidden = true;
      // Nothing behind the banner can be used any more.
      this.main.inert = true;
      this.main.setAttribute("aria-hidden", "true");
      const link = document.createElement("a");
      link.href = `${this.loginUrl}?next=${encodeURIComponent(location.pathname)}`;
      link.className = "button primary";
      link.textContent = "Sign in again";
      const text = document.createElement("p");
      text.textContent = "You're signed out. Sign in again to keep working with your todos.";
      this.banner.replaceChildren(text, link);
      this.banner.hidden = false;
      link.focus();
      this.onLock();
    }
  }

  Object.assign(global.TodoChat, { Memory, SignedOutGuard });
})(window);
