/* The ChatKit server protocol at /chatkit, as the built-in client speaks it:
 * JSON requests (threads.*, items.list) and streamed ones read as
 * `data: <event json>\n\n` events while they arrive. */
(function (global) {
  "use strict";
  const { ApiError } = global.TodoChat;

  /** Parse a text/event-stream body into ChatKit event objects, as they arrive. */
  async function* readEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      buffer = buffer.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) yield JSON.parse(data);
      }
      if (done) return;
    }
  }

  class ChatKitApi {
    constructor({ url, fetch }) {
      this.url = url;
      this.fetch = fetch;
    }

    /** POST one ChatKit request; JSON for reads, the raw Response for streams. */
    async request(body, { signal, stream = false, headers = {} } = {}) {
      const response = await this.fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: stream ? "text/event-stream" : "application/json", ...headers },
        body: JSON.stringify(body),
        signal,
      });
      if (!response.ok) throw await ApiError.from(response);
      return stream ? response : response.json();
    }

    /** Stream a request's events (async iterator). */
    async stream(body, { signal, headers } = {}) {
      return readEvents(await this.request(body, { signal, stream: true, headers }));
    }

    listThreads({ after = null, limit = 30 } = {}) {
      const params = { limit, order: "desc" };
      if (after) params.after = after;
      return this.request({ type: "threads.list", params });
    }

    getThread(threadId) {
      return this.request({ type: "threads.get_by_id", params: { thread_id: threadId } });
    }

    listItems(threadId, { after = null, limit = 50 } = {}) {
      const params = { thread_id: threadId, limit, order: "desc" };
      if (after) params.after = after;
      return this.request({ type: "items.list", params });
    }

    renameThread(threadId, title) {
      return this.request({ type: "threads.update", params: { thread_id: threadId, title } });
    }

    deleteThread(threadId) {
      return this.request({ type: "threads.delete", params: { thread_id: threadId } });
    }

    /** Does this thread still exist for us? (Deleted, purged, or another account's: no.) */
    async threadExists(threadId) {
      try {
        await this.getThread(threadId);
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return false;
        throw error;
      }
    }
  }

  Object.assign(global.TodoChat, { ChatKitApi, readEvents });
})(window);
