/* What the page tells OpenAI's ChatKit web component (its options), and what both
 * chat clients share: the user's calendar day for the client tool `get_local_date`,
 * todo tags (@-mentions) searched at /api/chatkit/entities, and their previews.
 * docs/chatkit.md sets the same options in a React app. */
(function (global) {
  "use strict";
  const { apiFetch } = global.TodoChat;

  /** The client tool the agent calls when a message needs the user's date. */
  const GET_LOCAL_DATE = "get_local_date";

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  /** The browser's calendar day and time zone: `get_local_date`'s answer. */
  function localDate(now = new Date()) {
    return {
      date: `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    };
  }

  /** A client tool's answer by name; an unknown tool is an error the server reports. */
  function answerClientTool(name) {
    if (name === GET_LOCAL_DATE) return localDate();
    throw new Error(`Unknown client tool: ${name}`);
  }

  /** The caller's todos matching `query` as ChatKit entities (none while the endpoint is missing). */
  async function searchTodoEntities(url, query) {
    try {
      const body = await apiFetch(`${url}?query=${encodeURIComponent(query || "")}`);
      return (body && body.data) || [];
    } catch (error) {
      console.warn("Todo search failed:", error && error.message);
      return [];
    }
  }

  function todoIdOf(entity) {
    const raw = (entity && entity.data && entity.data.todo_id) || (entity && entity.id);
    const id = parseInt(String(raw || "").replace(/^#/, ""), 10);
    return Number.isFinite(id) && id > 0 ? id : null;
  }

  /**
   * The web component's options. `config` is the page's (chat/pages.py); `hooks`:
   * fetch (ChatKit's requests, with the bearer), initialThread, onOpenTodo(id).
   * (The JSDoc types are ChatKit's: chat/tests/test_chatkit_guide.py checks them.)
   *
   * @param {any} config
   * @param {{fetch: typeof fetch, initialThread: string | null, onOpenTodo?: (id: number) => void}} hooks
   * @returns {import("@openai/chatkit").ChatKitOptions}
   */
  function chatkitOptions(config, hooks) {
    const composer = {
      placeholder: "Message the assistant…",
      // The two composer tools the server offers (chat/inference.py): the whole message is their input.
      tools: [
        { id: "add_todo", label: "Add a todo", shortLabel: "Add", icon: "plus", placeholderOverride: "What needs doing?" },
        { id: "search_todos", label: "Search todos", shortLabel: "Search", icon: "search", placeholderOverride: "Search your todos…" },
      ],
      // Attachments and dictation as the server allows them (static/js/attachments.js).
      ...(global.TodoChat.chatkitComposerOptions ? global.TodoChat.chatkitComposerOptions() : {}),
    };
    const models = config.models || [];
    if (models.length > 1) composer.models = models; // CHATKIT_MODELS: a picker only when there is a choice
    return {
      api: {
        url: config.chatkitUrl,
        domainKey: config.domainKey,
        fetch: hooks.fetch,
        // Attachments are created by attachments.create, then uploaded to their upload_descriptor.
        uploadStrategy: { type: "two_phase" },
      },
      initialThread: hooks.initialThread,
      theme: { colorScheme: "light", radius: "round" },
      history: { enabled: true },
      startScreen: {
        greeting: "What needs doing?",
        prompts: (config.hints || []).map((prompt) => ({ label: prompt, prompt })),
      },
      composer,
      // Thumbs (items.feedback, stored per item) and retry (threads.retry_after_item) on answers.
      threadItemActions: { feedback: true, retry: true },
      // Tag a todo with @: the tag carries data.todo_id, which names it exactly.
      entities: {
        onTagSearch: (query) => searchTodoEntities(config.entitiesUrl, query),
        onClick: (entity) => {
          const id = todoIdOf(entity);
          if (id !== null && hooks.onOpenTodo) hooks.onOpenTodo(id);
        },
        // The todo's details and actions, drawn by the server (chat/widgets.py).
        onRequestPreview: async (entity) => {
          const id = todoIdOf(entity);
          if (id === null) return { preview: null };
          try {
            return await apiFetch(`${config.entitiesUrl}/${id}/preview`);
          } catch (_) {
            return { preview: null }; // deleted since, or not the caller's
          }
        },
      },
      // The server's client tool: the agent asks for the user's calendar day.
      onClientTool: ({ name }) => answerClientTool(name),
    };
  }

  Object.assign(global.TodoChat, { GET_LOCAL_DATE, localDate, answerClientTool, chatkitOptions, searchTodoEntities });
})(window);
