/* Boots the page: the todo list, live updates, sign-out in every tab, and the
 * chat (ChatKit's web component from OpenAI's CDN, or our built-in client when
 * it can't load), both reopening the thread the user was last in. */
(function (global) {
  "use strict";
  const { ChatKitApi, ChatView, ClientSecretSource, Layout, LiveSocket, Memory, SignedOutGuard, ThreadFollower, TodoList } = global.TodoChat;

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const CDN_TIMEOUT_MS = 8000;
  // For the people using the page: the built-in client works the same. Shown until
  // dismissed, once per browser; the reason is for developers, in the console.
  const FALLBACK_NOTICE = "The chat is in simple mode right now: it works the same, it just looks plainer.";
  const FALLBACK_SEEN_KEY = "todochat.simpleChatNoticeSeen";
  const THREAD_DELETED = "This chat was deleted in another tab or window.";
  const byId = (id) => document.getElementById(id);

  // One polite live region for the whole page: each change is announced once.
  const announcer = byId("announcer");
  function announce(text) {
    announcer.textContent = "";
    requestAnimationFrame(() => {
      announcer.textContent = text;
    });
  }

  const memory = new Memory(config.userId);
  let live = null;
  let chat = null;
  let follower = null; // the web component's open thread, following thread.changed
  const guard = new SignedOutGuard({
    loginUrl: config.loginUrl,
    banner: byId("signed-out"),
    main: byId("main"),
    signOutForm: byId("sign-out-form"),
    onLock: () => {
      if (live) live.close();
      showLive("signed-out");
      if (chat) chat.detach(); // signed out: no stop request could be made
    },
  });

  new Layout({ workspace: byId("main"), tabs: byId("view-tabs"), skipLink: byId("skip-to-chat") });

  const empty = byId("todo-empty");
  empty.dataset.all = empty.textContent;
  const todos = new TodoList({
    todosUrl: config.todosUrl,
    statsUrl: config.todoStatsUrl,
    list: byId("todo-list"),
    form: byId("todo-form"),
    input: byId("todo-title"),
    error: byId("todo-error"),
    count: byId("todo-count"),
    empty,
    more: byId("todo-more"),
    filters: byId("todo-filters"),
    undo: byId("todo-undo"),
    announce,
  });
  todos.refresh();

  const liveStatus = byId("live-status");
  const STATE_LABELS = { connecting: "connecting…", live: "live", offline: "reconnecting…", "signed-out": "signed out" };
  function showLive(state) {
    liveStatus.dataset.state = state;
    liveStatus.textContent = STATE_LABELS[state] || state;
  }
  live = new LiveSocket({
    path: config.websocketPath,
    onMessage: (message) => {
      // A thread changed in another tab, worker or the admin: the open chat follows.
      if (message && message.type === "thread.changed") {
        if (chat) chat.threadChanged(message);
        if (follower) follower.changed(message);
        return;
      }
      todos.apply(message);
    },
    // Events sent while the socket was down are gone: reload on every (re)connect.
    onOpen: () => todos.refresh(),
    onState: showLive,
    onSignedOut: () => guard.lock(),
  }).connect();

  const secrets = new ClientSecretSource(config.sessionUrl);
  const onEffect = (name) => {
    if (name === "todos.changed") todos.refresh();
  };
  const chatRoot = byId("chat-root");
  const notice = byId("chat-notice");

  // A reload or a closed tab aborts ChatKit's requests too: that is not a Stop.
  let unloading = false;
  global.addEventListener("pagehide", () => {
    unloading = true;
  });
  global.addEventListener("pageshow", () => {
    unloading = false;
  });

  /** ChatKit's requests: the bearer (renewed once on 401), a countdown on 429, and
   * its Stop told to the server (as docs/chatkit.md's guide does). */
  async function chatkitFetch(input, init) {
    const request = chatkitRequest(init && init.body);
    if (request.type === "threads.delete" && follower) follower.deleting(request.threadId); // not news
    const response = await secrets.fetch(input, init);
    const streamed = (response.headers.get("Content-Type") || "").startsWith("text/event-stream");
    if (streamed && init && init.signal) {
      // A turn outlives its request here, so ChatKit's Stop, which only aborts the
      // stream, must also end the turn on the server; leaving the page must not.
      init.signal.addEventListener("abort", () => {
        const threadId = request.threadId || memory.threadId;
        if (unloading || !threadId) return;
        global.TodoChat.apiFetch(`/api/chatkit/threads/${encodeURIComponent(threadId)}/stop`, { method: "POST", body: {} }).catch(() => {});
      });
    }
    if (response.status === 429) {
      const body = await response.clone().json().catch(() => null);
      if (body && body.error && body.error.code === "quota_exceeded") {
        // Today's token budget is spent: what is left and when it resets, no countdown.
        clearInterval(countdown.timer);
        notice.textContent = body.error.message;
        notice.hidden = false;
        return response;
      }
      const wait = parseInt(response.headers.get("Retry-After") || "10", 10);
      countdown(Number.isFinite(wait) ? wait : 10);
    }
    return response;
  }

  /** A ChatKit request's type and thread (`params.thread_id` of its JSON body). */
  function chatkitRequest(body) {
    try {
      const request = JSON.parse(body);
      return { type: request.type, threadId: (request.params && request.params.thread_id) || null };
    } catch (_) {
      return { type: null, threadId: null };
    }
  }

  function countdown(seconds) {
    const until = Date.now() + seconds * 1000;
    clearInterval(countdown.timer);
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      notice.hidden = left <= 0;
      notice.textContent = `You're going a bit fast. You can send again in ${left} s.`;
      if (left <= 0) clearInterval(countdown.timer);
    };
    tick();
    countdown.timer = setInterval(tick, 1000);
  }

  /** The remembered thread, if it still exists (deleted, purged, another account: none). */
  async function rememberedThread() {
    const threadId = memory.threadId;
    if (!threadId) return null;
    try {
      if (await new ChatKitApi({ url: config.chatkitUrl, fetch: secrets.fetch }).threadExists(threadId)) return threadId;
      memory.threadId = null;
      return null;
    } catch (_) {
      return threadId; // can't tell now: let the chat try it
    }
  }

  /** Resolves once <openai-chatkit> is defined; rejects if the script fails or takes too long. */
  function loadChatKit(src, timeoutMs) {
    if (customElements.get("openai-chatkit")) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("ChatKit script timed out")), timeoutMs);
      const script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new Error("ChatKit script failed to load"));
      });
      customElements.whenDefined("openai-chatkit").then(() => {
        clearTimeout(timer);
        resolve();
      });
      document.head.append(script);
    });
  }

  async function mountChatKit() {
    const chatkit = document.createElement("openai-chatkit");
    chatkit.className = "chatkit";
    const initialThread = await rememberedThread();
    // Every option the server answers (static/js/chatkit-options.js; docs/chatkit.md for React).
    chatkit.setOptions(global.TodoChat.chatkitOptions(config, { fetch: chatkitFetch, initialThread, onOpenTodo: openTodo }));
    // The open thread changed elsewhere (another tab; its answer still running after a
    // reload, the thread locked): ChatKit fetches its new items and status. Its own
    // turn's changes too, once its response has ended: fetchUpdates() adds only what it lacks.
    let responding = false;
    follower = new ThreadFollower({
      refresh: () => chatkit.fetchUpdates(),
      onDeleted: () => {
        notice.textContent = THREAD_DELETED;
        notice.hidden = false;
        chatkit.setThreadId(null);
      },
      busy: () => responding,
    });
    follower.open(initialThread);
    // The thread the user is in (null: a new chat), reopened after a reload.
    chatkit.addEventListener("chatkit.thread.change", (event) => {
      const threadId = (event.detail && event.detail.threadId) || null;
      memory.threadId = threadId;
      follower.open(threadId);
      if (threadId) hideNotice(THREAD_DELETED);
    });
    chatkit.addEventListener("chatkit.effect", (event) => onEffect(event.detail.name, event.detail.data));
    chatkit.addEventListener("chatkit.response.start", () => {
      responding = true;
      hideNotice(THREAD_DELETED);
    });
    // A turn may change todos without an effect reaching us (a stop, an error).
    chatkit.addEventListener("chatkit.response.end", () => {
      responding = false;
      follower.idle();
      todos.refresh();
    });
    chatkit.addEventListener("chatkit.error", (event) => {
      const error = event.detail && event.detail.error;
      console.warn("ChatKit:", error && error.message ? error.message : error);
    });
    chatRoot.replaceChildren(chatkit);
    chatRoot.dataset.client = "chatkit";
    Object.assign(global.TodoChat, { chatkit });
  }

  /** Put the notice away if it still says `text`. */
  function hideNotice(text) {
    if (notice.textContent === text) notice.hidden = true;
  }

  /** A tagged todo was clicked: show it in the todo list (the list's view on a phone). */
  function openTodo(todoId) {
    const row = byId("todo-list").querySelector(`[data-todo-id="${todoId}"]`);
    if (!row) {
      announce("That todo isn't in the list shown.");
      return;
    }
    const tab = byId("view-tabs").querySelector('button[data-view="todos"]');
    if (tab && getComputedStyle(byId("view-tabs")).display !== "none") tab.click();
    row.scrollIntoView({ block: "nearest" });
    row.focus();
  }

  /** "#12 oat milk" for a todo id a question offers (null when it can't be read). */
  async function describeTodo(todoId) {
    const known = todos.todos && todos.todos.get(todoId);
    if (known) return known.title;
    try {
      return (await global.TodoChat.apiFetch(`${config.todosUrl}${todoId}/`)).title;
    } catch (_) {
      return null;
    }
  }

  /** The simple-mode note, with a button that puts it away for good (in this browser). */
  function showFallbackNotice() {
    let seen = null;
    try {
      seen = localStorage.getItem(FALLBACK_SEEN_KEY);
    } catch (_) {
      // Storage refused (private mode): show it, it can still be dismissed.
    }
    if (seen) return;
    const text = document.createElement("span");
    text.textContent = FALLBACK_NOTICE;
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "link-button notice-dismiss";
    dismiss.textContent = "Got it";
    dismiss.setAttribute("aria-label", "Got it: hide this note");
    dismiss.addEventListener("click", () => {
      try {
        localStorage.setItem(FALLBACK_SEEN_KEY, String(Date.now()));
      } catch (_) {
        // Not remembered: hidden for this page only.
      }
      notice.hidden = true;
      notice.replaceChildren();
      if (chat && chat.input) chat.input.focus();
    });
    notice.replaceChildren(text, " ", dismiss);
    notice.hidden = false;
  }

  function mountFallback() {
    console.info("ChatKit's script did not load from", config.chatkitScriptUrl, "- using the built-in client");
    showFallbackNotice();
    chat = new ChatView(chatRoot, { url: config.chatkitUrl, fetch: secrets.fetch, memory, hints: config.hints, onEffect, announce, describeTodo });
    chatRoot.dataset.client = "fallback";
    chat.start(memory.threadId);
    global.TodoChat.chat = chat;
  }

  loadChatKit(config.chatkitScriptUrl, CDN_TIMEOUT_MS).then(mountChatKit, mountFallback);
  Object.assign(global.TodoChat, { todos, secrets, memory, guard });
})(window);
