/* Boots the page: the todo list, live updates, and the chat (ChatKit's web
 * component from OpenAI's CDN, or our built-in client when it can't load). */
(function (global) {
  "use strict";
  const { ClientSecretSource, FallbackChat, LiveSocket, TodoList } = global.TodoChat;

  const config = JSON.parse(document.getElementById("page-config").textContent);
  const CDN_TIMEOUT_MS = 8000;
  const FALLBACK_NOTICE = "ChatKit couldn't load from OpenAI's CDN, so you're using the built-in chat client.";

  const todos = new TodoList({
    todosUrl: config.todosUrl,
    list: document.getElementById("todo-list"),
    form: document.getElementById("todo-form"),
    input: document.getElementById("todo-title"),
    error: document.getElementById("todo-error"),
    count: document.getElementById("todo-count"),
    empty: document.getElementById("todo-empty"),
  });
  todos.refresh();

  const liveStatus = document.getElementById("live-status");
  const STATE_LABELS = { connecting: "connecting…", live: "live", offline: "reconnecting…", "signed-out": "signed out" };
  new LiveSocket({
    path: config.websocketPath,
    onMessage: (message) => todos.apply(message),
    // Events sent while the socket was down are gone: reload on every (re)connect.
    onOpen: () => todos.refresh(),
    onState: (state) => {
      liveStatus.dataset.state = state;
      liveStatus.textContent = STATE_LABELS[state] || state;
    },
  }).connect();

  const secrets = new ClientSecretSource(config.sessionUrl);
  const onEffect = (name) => {
    if (name === "todos.changed") todos.refresh();
  };
  const chatRoot = document.getElementById("chat-root");

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

  function mountChatKit() {
    const chatkit = document.createElement("openai-chatkit");
    chatkit.className = "chatkit";
    chatkit.setOptions({
      api: { url: config.chatkitUrl, domainKey: config.domainKey, fetch: secrets.fetch },
      theme: { colorScheme: "light", radius: "round" },
      history: { enabled: true },
      startScreen: {
        greeting: "What needs doing?",
        prompts: [
          { label: "Add a todo", prompt: "add buy milk" },
          { label: "Show my todos", prompt: "list" },
        ],
      },
      composer: {
        placeholder: "Ask the assistant to add, list, complete or delete todos",
        // Attachments and dictation as the server allows them (static/js/attachments.js).
        ...(global.TodoChat.chatkitComposerOptions ? global.TodoChat.chatkitComposerOptions() : {}),
      },
    });
    chatkit.addEventListener("chatkit.effect", (event) => onEffect(event.detail.name, event.detail.data));
    // A turn may change todos without an effect reaching us (a stop, an error).
    chatkit.addEventListener("chatkit.response.end", () => todos.refresh());
    chatRoot.replaceChildren(chatkit);
    chatRoot.dataset.client = "chatkit";
  }

  function mountFallback() {
    const notice = document.getElementById("chat-notice");
    notice.textContent = FALLBACK_NOTICE;
    notice.hidden = false;
    global.TodoChat.chat = new FallbackChat(chatRoot, { url: config.chatkitUrl, fetch: secrets.fetch, onEffect });
    chatRoot.dataset.client = "fallback";
  }

  loadChatKit(config.chatkitScriptUrl, CDN_TIMEOUT_MS).then(mountChatKit, mountFallback);
  Object.assign(global.TodoChat, { todos, secrets });
})(window);
