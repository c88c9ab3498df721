/* A strict Markdown subset for assistant text, built as DOM nodes (never
 * innerHTML): paragraphs, line breaks, headings, bullet/numbered/task lists,
 * fenced code, `code`, **bold**, *italic*, and http(s)/mailto links. Anything
 * else stays plain text, so model output can never inject markup. */
(function (global) {
  "use strict";

  const SAFE_URL = /^(https?:\/\/|mailto:)/i;
  // `code` | **bold** | *italic* or _italic_ | [text](url)
  const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\s][^*\n]*\*|_[^_\s][^_\n]*_)|(\[[^\]\n]+\]\([^)\s]+\))/;

  function text(value) {
    return document.createTextNode(value);
  }

  function node(tag, ...children) {
    const element = document.createElement(tag);
    element.append(...children);
    return element;
  }

  /** Inline spans of one line (or a paragraph's joined lines). */
  function inline(source) {
    const out = [];
    let rest = source;
    while (rest) {
      const match = INLINE.exec(rest);
      if (!match) {
        out.push(text(rest));
        break;
      }
      if (match.index) out.push(text(rest.slice(0, match.index)));
      const token = match[0];
      if (match[1]) out.push(node("code", token.slice(1, -1)));
      else if (match[2]) out.push(node("strong", ...inline(token.slice(2, -2))));
      else if (match[3]) out.push(node("em", ...inline(token.slice(1, -1))));
      else {
        const [, label, url] = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(token);
        if (SAFE_URL.test(url)) {
          const link = node("a", ...inline(label));
          link.href = url;
          link.rel = "noopener noreferrer";
          link.target = "_blank";
          out.push(link);
        } else {
          out.push(text(token));
        }
      }
      rest = rest.slice(match.index + token.length);
    }
    return out;
  }

  /** Lines joined with <br>, each with its inline spans. */
  function lines(list) {
    const out = [];
    list.forEach((line, index) => {
      if (index) out.push(document.createElement("br"));
      out.push(...inline(line));
    });
    return out;
  }

  const BULLET = /^\s*[-*+]\s+(.*)$/;
  const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
  const TASK = /^\[([ xX])\]\s+(.*)$/;
  const HEADING = /^(#{1,6})\s+(.*)$/;
  const FENCE = /^\s*```/;

  function listItem(content) {
    const item = document.createElement("li");
    const task = TASK.exec(content);
    if (task) {
      const done = task[1] !== " ";
      item.className = "md-task" + (done ? " done" : "");
      const mark = node("span", done ? "☑ " : "☐ ");
      mark.setAttribute("aria-hidden", "true");
      const state = node("span", done ? "(done) " : "(open) ");
      state.className = "visually-hidden";
      item.append(mark, state, ...inline(task[2]));
    } else {
      item.append(...inline(content));
    }
    return item;
  }

  /** Render `source` into a DocumentFragment of safe nodes. */
  function render(source) {
    const fragment = document.createDocumentFragment();
    const all = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    let paragraph = [];
    let list = null;
    const flush = () => {
      if (paragraph.length) fragment.append(node("p", ...lines(paragraph)));
      paragraph = [];
    };
    for (let index = 0; index < all.length; index += 1) {
      const line = all[index];
      if (FENCE.test(line)) {
        flush();
        list = null;
        const code = [];
        for (index += 1; index < all.length && !FENCE.test(all[index]); index += 1) code.push(all[index]);
        fragment.append(node("pre", node("code", code.join("\n"))));
        continue;
      }
      const bullet = BULLET.exec(line);
      const numbered = bullet ? null : NUMBERED.exec(line);
      if (bullet || numbered) {
        flush();
        const tag = bullet ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) {
          list = document.createElement(tag);
          if (numbered && numbered[1] !== "1") list.start = Number(numbered[1]);
          fragment.append(list);
        }
        list.append(listItem(bullet ? bullet[1] : numbered[2]));
        continue;
      }
      list = null;
      const heading = HEADING.exec(line);
      if (heading) {
        flush();
        const title = node("p", node("strong", ...inline(heading[2])));
        title.className = "md-heading";
        fragment.append(title);
      } else if (!line.trim()) {
        flush();
      } else {
        paragraph.push(line);
      }
    }
    flush();
    return fragment;
  }

  global.TodoChat = Object.assign(global.TodoChat || {}, { markdown: { render } });
})(window);
