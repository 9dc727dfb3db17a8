// 对话 workspace: live updates over SSE, Enter to send, smart-assist and quick replies.
// Without this file every action still works as a plain form post.
"use strict";

(() => {
  const ws = document.getElementById("ws");
  if (!ws) return;
  const conv = ws.dataset.conv || "";
  const lists = document.getElementById("ws-lists");
  const messages = document.getElementById("ws-messages");
  const assist = document.getElementById("ws-assist");
  const form = document.getElementById("ws-send");
  const input = document.getElementById("ws-input");
  const status = document.getElementById("ws-status");

  const say = (text) => { if (status) status.textContent = text; };
  const bottom = () => { if (messages) messages.scrollTop = messages.scrollHeight; };
  // Opened at a message (/desk/c/ID#mSEQ, from search): show that one, not the end.
  const target = /^#m\d+$/.test(location.hash) ? document.getElementById(location.hash.slice(1)) : null;
  if (target && messages && messages.contains(target)) {
    target.classList.add("hit");
    target.scrollIntoView({ block: "center" });
  } else {
    bottom();
  }

  // The message of an error page (the server answers errors with error.html).
  const errorOf = async (res) => {
    const html = await res.text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const h = doc.querySelector(".error-page h1");
    return h ? h.textContent : `出错了（${res.status}）`;
  };

  // The fragments come from the server's templates, escaped there: buyer text is text.
  const lastSeq = () => {
    const items = messages ? messages.querySelectorAll("li[data-seq]") : [];
    return items.length ? items[items.length - 1].dataset.seq : (ws.dataset.last || "0");
  };
  // One fetch at a time, each from the last message shown: nothing twice.
  let chain = Promise.resolve();
  const fetchMore = async () => {
    const res = await fetch(`/desk/c/${conv}/messages?after=${lastSeq()}`, { credentials: "same-origin" });
    if (!res.ok) return;
    const html = await res.text();
    if (html.trim()) {
      messages.insertAdjacentHTML("beforeend", html);
      bottom();
    }
  };
  const moreMessages = () => {
    if (!messages || !conv) return chain;
    chain = chain.then(fetchMore).catch(() => {});
    return chain;
  };
  const refreshAssist = async () => {
    if (!assist || !conv) return;
    const res = await fetch(`/desk/c/${conv}/assist`, { credentials: "same-origin" });
    if (res.ok) assist.innerHTML = await res.text();
  };
  let listsTimer = null;
  const refreshLists = () => {
    clearTimeout(listsTimer);
    listsTimer = setTimeout(async () => {
      const res = await fetch(`/desk/lists${conv ? `?c=${conv}` : ""}`, { credentials: "same-origin" });
      if (res.ok) lists.innerHTML = await res.text();
    }, 150);
  };

  // Live: the server says which conversation changed; the page fetches what it shows.
  const events = new EventSource("/desk/events");
  window.xiaoerAlerts(events);
  events.addEventListener("change", (e) => {
    const c = JSON.parse(e.data);
    const id = String(c.conv);
    const listed = lists.querySelector(`[data-conv="${id}"]`);
    if (c.kind !== "message" || listed) refreshLists();
    if (id !== conv) return;
    if (c.kind === "message") {
      moreMessages();
      if (c.from === "buyer") refreshAssist();
    } else if (c.kind === "state" || c.kind === "assigned") {
      if (!input || !input.value.trim()) {
        window.location.reload();
      } else {
        say("会话状态已变化，发送后刷新页面查看");
      }
    }
  });

  // Enter sends, Shift+Enter is a new line; sending does not leave the page.
  const send = async () => {
    const text = input.value.trim();
    if (!text) return;
    const body = new URLSearchParams(new FormData(form));
    say("发送中…");
    const res = await fetch(form.action, {
      method: "POST", body, credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    if (res.ok) {
      input.value = "";
      say("");
      moreMessages();
    } else {
      say(await errorOf(res));
    }
  };
  if (form && input) {
    form.addEventListener("submit", (e) => { e.preventDefault(); send(); });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send();
      }
    });
  }

  // Smart assist: one click puts the answer into the reply box, to edit before sending.
  document.addEventListener("click", (e) => {
    const use = e.target.closest("[data-use-answer]");
    if (use && input) {
      input.value = use.dataset.useAnswer;
      input.focus();
    }
    const quick = e.target.closest("[data-quick]");
    if (quick && input) {
      const at = input.selectionStart ?? input.value.length;
      input.value = input.value.slice(0, at) + quick.dataset.quick + input.value.slice(input.selectionEnd ?? at);
      input.focus();
      document.getElementById("quick-list").hidden = true;
      const typed = document.getElementById("quick-search");
      if (typed) typed.value = "";
    }
  });

  // Quick replies: filter by short key (prefix) or by words in the text.
  const search = document.getElementById("quick-search");
  const list = document.getElementById("quick-list");
  if (search && list) {
    const filter = () => {
      const typed = search.value.trim().toLowerCase();
      let shown = 0;
      for (const b of list.querySelectorAll("[data-quick]")) {
        const hit = !typed || b.dataset.key.toLowerCase().startsWith(typed) || b.dataset.quick.includes(typed);
        b.parentElement.hidden = !hit;
        if (hit) shown += 1;
      }
      list.hidden = shown === 0;
    };
    search.addEventListener("input", filter);
    search.addEventListener("focus", filter);
    search.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        const first = [...list.querySelectorAll("[data-quick]")].find((b) => !b.parentElement.hidden);
        if (first) { first.click(); search.value = ""; }
      } else if (e.key === "Escape") {
        list.hidden = true;
      }
    });
  }
})();
