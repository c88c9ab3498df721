/* Small helpers shared by the page: JSON calls with the session + CSRF, SPEC's
 * error body, and ChatKit client secrets (minted at /api/chatkit/session). */
(function (global) {
  "use strict";

  function getCookie(name) {
    const prefix = name + "=";
    for (const part of document.cookie ? document.cookie.split(";") : []) {
      const cookie = part.trim();
      if (cookie.startsWith(prefix)) return decodeURIComponent(cookie.slice(prefix.length));
    }
    return null;
  }

  /** An HTTP failure carrying SPEC's {"error": {"code", "message"}} body. */
  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.name = "ApiError";
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }

    static async from(response) {
      let code = "http_" + response.status;
      let message = response.statusText || "Request failed.";
      try {
        const body = await response.json();
        if (body && body.error) {
          code = body.error.code || code;
          message = body.error.message || message;
        }
      } catch (_) {
        // Not JSON (a proxy's error page): keep the status text.
      }
      const retry = parseInt(response.headers.get("Retry-After") || "", 10);
      return new ApiError(response.status, code, message, Number.isFinite(retry) ? retry : null);
    }
  }

  /** A message fit for a person, from an ApiError or a network failure. */
  function friendlyError(error) {
    if (error instanceof ApiError) {
      if (error.status === 401) return "Your sign-in has expired. Reload the page to sign in again.";
      if (error.code === "quota_exceeded") return error.message;
      if (error.status === 429) {
        const wait = error.retryAfter ? ` in ${error.retryAfter} s` : " in a moment";
        return `You're going a bit fast. Try again${wait}.`;
      }
      if (error.status >= 500) return "Something went wrong on our side. Please try again.";
      return error.message;
    }
    return "Couldn't reach the server. Check your connection and try again.";
  }

  /** Called with the failing ApiError when the server says we are signed out (set by session.js). */
  const auth = { onSignedOut: () => {} };

  /** fetch() with the session cookie and CSRF token, JSON in and out. */
  async function apiFetch(url, { method = "GET", body, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = getCookie("csrftoken") || "";
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
    if (!response.ok) {
      const error = await ApiError.from(response);
      if (error.status === 401) auth.onSignedOut(error);
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

  /**
   * Holds a ChatKit client secret and renews it before `expires_at`, so every
   * /chatkit call carries a live `Authorization: Bearer cks_…`.
   */
  class ClientSecretSource {
    constructor(sessionUrl) {
      this.sessionUrl = sessionUrl;
      this.secret = null;
      this.expiresAt = 0;
      this.refreshMargin = 30;
      this.pending = null;
      this.fetch = this.fetch.bind(this);
    }

    async get({ force = false } = {}) {
      const now = Date.now() / 1000;
      if (!force && this.secret && this.expiresAt - now > this.refreshMargin) return this.secret;
      if (!this.pending) {
        this.pending = apiFetch(this.sessionUrl, { method: "POST", body: {} })
          .then(({ client_secret: secret, expires_at: expiresAt }) => {
            const lifetime = expiresAt - Date.now() / 1000;
            // Renew with a tenth of the lifetime left (at least 5 s, at most 60 s).
            this.refreshMargin = Math.min(60, Math.max(5, lifetime / 10));
            this.secret = secret;
            this.expiresAt = expiresAt;
            return secret;
          })
          .finally(() => {
            this.pending = null;
          });
      }
      return this.pending;
    }

    /** A drop-in fetch for ChatKit's `api.fetch`: the caller's init (signal included) plus the bearer. */
    async fetch(input, init = {}) {
      const send = (secret) => {
        const base = init.headers || (input instanceof Request ? input.headers : undefined);
        const headers = new Headers(base || {});
        headers.set("Authorization", "Bearer " + secret);
        return fetch(input, { ...init, headers });
      };
      const response = await send(await this.get());
      // A secret can lapse between the check and the call (sleep, clock skew):
      // renew once and replay, when the body can be sent again.
      const replayable = !(input instanceof Request) && !(init.body instanceof ReadableStream);
      if (response.status === 401 && replayable && !(init.signal && init.signal.aborted)) {
        const again = await send(await this.get({ force: true }));
        // A fresh secret refused too: the session is over (signed out elsewhere).
        if (again.status === 401) auth.onSignedOut(null);
        return again;
      }
      return response;
    }
  }

  global.TodoChat = Object.assign(global.TodoChat || {}, {
    ApiError,
    ClientSecretSource,
    auth,
    apiFetch,
    friendlyError,
    getCookie,
  });
})(window);
