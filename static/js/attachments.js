/* Attachments in the built-in chat client: an attach button, drop and paste,
 * previews and upload progress, on ChatKit's two-phase upload: `attachments.create`
 * through /chatkit answers a signed upload URL, the bytes go there (POST,
 * multipart field `file`), then the message names the attachment ids.
 * The fallback client calls `AttachmentComposer.attach(chat)`; the ChatKit web
 * component gets the same limits from `chatkitComposerOptions()`. No build step. */
(function (global) {
  "use strict";
  const { ApiError, friendlyError } = global.TodoChat;

  const { el } = global.TodoChat;

  const ICONS = {
    clip: "M16 6v10a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10a1 1 0 0 1-2 0V7",
    file: "M6 2h8l6 6v14H6z M14 2v6h6",
  };

  /** A small stroked SVG icon (no emoji font needed). */
  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "fc-icon");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  /** The server's limits, from the page's config (attachments/client.py). */
  function limits() {
    const config = JSON.parse(document.getElementById("page-config").textContent);
    return config.attachments || null;
  }

  function formatSize(bytes) {
    if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)} MB`;
    if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
    return `${bytes} B`;
  }

  /** Options for ChatKit's web component matching the server (composer.attachments, dictation). */
  function chatkitComposerOptions() {
    const server = limits();
    if (!server) return {};
    return {
      attachments: { enabled: true, maxSize: server.maxBytes, maxCount: server.maxCount, accept: server.accept },
      dictation: { enabled: Boolean(server.dictation) },
    };
  }

  /** Send a file to its upload descriptor, reporting progress (fetch can't). */
  function uploadBytes(descriptor, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(descriptor.method, descriptor.url);
      for (const [name, value] of Object.entries(descriptor.headers || {})) xhr.setRequestHeader(name, value);
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        let message = `Upload failed (${xhr.status}).`;
        try {
          message = JSON.parse(xhr.responseText).error.message || message;
        } catch (_) {
          /* not our JSON error body */
        }
        reject(new Error(message));
      });
      xhr.addEventListener("error", () => reject(new Error("The upload failed: check your connection.")));
      xhr.addEventListener("abort", () => reject(new DOMException("Upload cancelled", "AbortError")));
      if (descriptor.method === "PUT") {
        xhr.send(file);
      } else {
        const form = new FormData();
        form.append("file", file, file.name);
        xhr.send(form);
      }
    });
  }

  /** The thumbnails and names of a message's attachments (sent or from history). */
  function attachmentList(attachments) {
    const items = attachments.map((attachment) => {
      const preview = attachment.previewUrl || attachment.preview_url;
      const label = el("span", { class: "fc-att-name" }, attachment.name);
      if (attachment.type === "image" && preview) {
        return el("li", { class: "fc-att" }, el("img", { src: preview, alt: attachment.name, loading: "lazy" }), label);
      }
      return el("li", { class: "fc-att fc-att-file" }, icon("file"), label);
    });
    return el("ul", { class: "fc-att-list", "aria-label": "Attachments" }, ...items);
  }

  class AttachmentComposer {
    /** Adds attachments to a FallbackChat, or null when the server takes none. */
    static attach(chat) {
      const server = limits();
      return server ? new AttachmentComposer(chat, server) : null;
    }

    constructor(chat, server) {
      this.chat = chat;
      // A ChatKit JSON request through the chat's own authenticated fetch.
      this.request = (body) => (chat.api ? chat.api.request(body) : chat.request(body));
      this.server = server;
      this.entries = [];
      const accept = Object.entries(server.accept || {}).flatMap(([type, extensions]) => [type, ...extensions]);
      this.picker = el("input", { type: "file", multiple: true, accept: accept.join(","), hidden: true });
      this.button = el("button", { type: "button", class: "button fc-attach", "aria-label": "Attach files", title: "Attach files" }, icon("clip"));
      this.tray = el("ul", { class: "fc-tray", "aria-label": "Files to send", hidden: true });
      chat.form.prepend(this.picker, this.button);
      chat.form.before(this.tray);
      this.button.addEventListener("click", () => this.picker.click());
      this.picker.addEventListener("change", () => {
        this.add([...this.picker.files]);
        this.picker.value = "";
      });
      chat.form.addEventListener("dragover", (event) => {
        event.preventDefault();
        chat.form.classList.add("dropping");
      });
      chat.form.addEventListener("dragleave", () => chat.form.classList.remove("dropping"));
      chat.form.addEventListener("drop", (event) => {
        event.preventDefault();
        chat.form.classList.remove("dropping");
        this.add([...(event.dataTransfer ? event.dataTransfer.files : [])]);
      });
      chat.input.addEventListener("paste", (event) => {
        const files = [...((event.clipboardData && event.clipboardData.files) || [])];
        if (files.length) {
          event.preventDefault();
          this.add(files);
        }
      });
    }

    /** True while a file is still uploading (the message must wait). */
    get busy() {
      return this.entries.some((entry) => entry.state === "uploading");
    }

    add(files) {
      for (const file of files) {
        const problem = this.refusal(file);
        if (problem) {
          this.chat.showError(problem);
          continue;
        }
        const entry = { file, state: "uploading", progress: 0, id: null, attachment: null };
        entry.localUrl = file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
        this.entries.push(entry);
        this.upload(entry);
      }
      this.render();
    }

    refusal(file) {
      const type = (file.type || "").toLowerCase();
      if (!(type in (this.server.accept || {}))) return `“${file.name}” can't be attached: images, text, CSV, Markdown and PDF files only.`;
      if (file.size > this.server.maxBytes) return `“${file.name}” is larger than ${formatSize(this.server.maxBytes)}.`;
      if (file.size === 0) return `“${file.name}” is empty.`;
      if (this.entries.length >= this.server.maxCount) return `At most ${this.server.maxCount} files per message.`;
      return null;
    }

    async upload(entry) {
      try {
        const attachment = await this.request({
          type: "attachments.create",
          params: { name: entry.file.name, size: entry.file.size, mime_type: entry.file.type },
        });
        entry.id = attachment.id;
        entry.attachment = attachment;
        await uploadBytes(attachment.upload_descriptor, entry.file, (fraction) => {
          entry.progress = fraction;
          this.render();
        });
        entry.state = "ready";
      } catch (error) {
        entry.state = "error";
        entry.error = error instanceof ApiError ? friendlyError(error) : error.message;
        this.chat.showError(`“${entry.file.name}”: ${entry.error}`);
      }
      this.render();
    }

    remove(entry) {
      this.entries = this.entries.filter((other) => other !== entry);
      if (entry.localUrl) URL.revokeObjectURL(entry.localUrl);
      if (entry.id) {
        this.request({ type: "attachments.delete", params: { attachment_id: entry.id } }).catch(() => {}); // else purged after a day
      }
      this.render();
    }

    /** The uploaded attachments for the message being sent; the tray empties. */
    take() {
      const ready = this.entries.filter((entry) => entry.state === "ready");
      this.entries = this.entries.filter((entry) => entry.state === "uploading");
      this.render();
      return ready.map((entry) => ({ ...entry.attachment, previewUrl: entry.localUrl, entry }));
    }

    /** Put attachments back in the tray (the message was refused). */
    restore(taken) {
      this.entries.push(...taken.map((attachment) => attachment.entry));
      this.render();
    }

    /** Show a message's attachments in its bubble. */
    decorate(node, attachments) {
      if (attachments && attachments.length) node.append(attachmentList(attachments));
    }

    render() {
      const items = this.entries.map((entry) => {
        const name = entry.file.name;
        const thumb = entry.localUrl
          ? el("img", { src: entry.localUrl, alt: "", class: "fc-tray-thumb" })
          : icon("file");
        const status =
          entry.state === "uploading"
            ? el("progress", { max: 1, value: entry.progress, "aria-label": `Uploading ${name}` })
            : el("span", { class: "fc-tray-state" }, entry.state === "ready" ? formatSize(entry.file.size) : "failed");
        const remove = el("button", { type: "button", class: "icon-button", "aria-label": `Remove “${name}”` }, "×");
        remove.addEventListener("click", () => this.remove(entry));
        return el("li", { class: "fc-tray-item", dataset: { state: entry.state } }, thumb, el("span", { class: "fc-att-name" }, name), status, remove);
      });
      this.tray.replaceChildren(...items);
      this.tray.hidden = items.length === 0;
    }
  }

  Object.assign(global.TodoChat, { AttachmentComposer, chatkitComposerOptions });
})(window);
