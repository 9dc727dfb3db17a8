// The buyer chat: history, live updates (server-sent events), sending with safe
// retries, suggestions while typing, the transfer button, queue place and rating.
// Buyer text is only ever set as textContent: it can never become markup or script.
"use strict";

(() => {
  const app = document.getElementById("chat");
  if (!app) return;
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const text = $("text");
  const banner = $("banner");
  const suggestBox = $("suggest");
  const product = app.dataset.product || null;
  const botStatus = $("status").textContent;
  // A product picture that does not load is left out rather than shown broken.
  for (const img of document.querySelectorAll(".product-card .thumb")) {
    img.addEventListener("error", () => { img.hidden = true; });
    if (img.complete && img.naturalWidth === 0) img.hidden = true;
  }

  // Inside the widget's frame the shop page hands us the buyer's token (#b=…): send it
  // as a header, since the browser may withhold our cookie in a frame.
  const fromHash = /[#&]b=([A-Za-z0-9_-]{32,128})/.exec(location.hash);
  const token = fromHash ? fromHash[1] : null;
  const headers = token ? { "X-Xiaoer-Buyer": token } : {};

  let conversation = null;
  // The conversation the rating invitation is for: the buyer may start the next one
  // before rating this one.
  let ratingFor = null;
  let state = null;
  let lastEvent = 0;
  let ratingLevel = 0;
  const shown = new Set(); // "conversation:message id"
  let lastConv = null; // the conversation of the last message shown
  const pending = new Map(); // client_msg_id → element

  const randomId = () => {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  async function call(method, path, body) {
    const init = { method, headers: { ...headers }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const message = (data.error && data.error.message) || "网络开小差了，请稍后再试";
      throw new Error(message);
    }
    return data;
  }

  function showBanner(message, isError) {
    banner.textContent = message || "";
    banner.hidden = !message;
    banner.classList.toggle("error", Boolean(isError));
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function optionButtons(title, items) {
    const box = document.createElement("div");
    box.className = "options";
    const t = document.createElement("span");
    t.className = "options-title";
    t.textContent = title;
    box.append(t);
    for (const item of items) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "ask";
      b.dataset.q = item.question;
      b.textContent = item.question;
      box.append(b);
    }
    return box;
  }

  function messageElement(m) {
    const el = document.createElement("div");
    el.className = "msg " + m.from;
    if (m.from === "agent" && m.agent) {
      const who = document.createElement("span");
      who.className = "who-says";
      who.textContent = "客服 " + m.agent;
      el.append(who);
    }
    const p = document.createElement("p");
    p.className = "bubble";
    p.textContent = m.text;
    el.append(p);
    if (m.menu && m.menu.length) el.append(optionButtons("您是想问：", m.menu));
    if (m.follow_ups && m.follow_ups.length) el.append(optionButtons("相关问题", m.follow_ups));
    return el;
  }

  // Shows a stored message once, however many ways it arrives (history, the send
  // answer, the event stream, a reconnect).
  function addMessage(conv, m) {
    const key = conv + ":" + m.id;
    if (shown.has(key)) return;
    shown.add(key);
    const mine = m.client_msg_id && pending.get(m.client_msg_id);
    // A message after a closed conversation starts a new one: mark where.
    if (lastConv !== null && conv !== lastConv) {
      const mark = document.createElement("div");
      mark.className = "new-conv";
      mark.textContent = "新的会话";
      if (mine) mine.before(mark);
      else log.append(mark);
    }
    lastConv = conv;
    if (mine) {
      pending.delete(m.client_msg_id);
      mine.classList.remove("pending", "failed");
      const retry = mine.querySelector(".retry");
      if (retry) retry.remove();
      return;
    }
    log.append(messageElement(m));
    scrollDown();
  }

  function showState(s) {
    if (s.conversation_id) conversation = s.conversation_id;
    const was = state;
    state = s.state;
    const status = $("status");
    // Asking for a human again while waiting for or talking to one does nothing.
    $("to-human").hidden = s.state === "queued" || s.state === "human";
    if (s.state === "queued") {
      const ahead = typeof s.queue_ahead === "number" ? s.queue_ahead : 0;
      showBanner(ahead > 0 ? `正在为您转接人工客服，前面还有 ${ahead} 位` : "正在为您转接人工客服，您是下一位");
    } else if (s.state === "human") {
      showBanner("");
      if (s.agent) status.textContent = `人工客服 ${s.agent} 为您服务`;
      else if (was !== "human") status.textContent = "人工客服为您服务";
    } else if (s.state === "closed") {
      showBanner("本次会话已结束，有新问题直接发送即可");
      status.textContent = botStatus;
    } else if (s.state === "bot") {
      showBanner("");
      status.textContent = botStatus;
    }
  }

  function showRating(invited, rated, conv) {
    if (invited && !rated && conv) ratingFor = conv;
    $("rating").hidden = !invited || Boolean(rated);
  }

  function listen() {
    let url = "/api/v1/chat/events?after=" + lastEvent;
    if (token) url += "&b=" + token;
    const source = new EventSource(url);
    source.addEventListener("message", (e) => {
      const d = JSON.parse(e.data);
      addMessage(d.conversation_id, d.message);
      conversation = d.conversation_id;
    });
    source.addEventListener("state", (e) => showState(JSON.parse(e.data)));
    source.addEventListener("queue", (e) => {
      const d = JSON.parse(e.data);
      showState({ ...d, state: "queued" });
    });
    source.addEventListener("invite", (e) => {
      showRating(true, false, JSON.parse(e.data).conversation_id);
    });
    source.addEventListener("rated", () => showRating(false, true));
  }

  async function load() {
    try {
      const h = await call("GET", "/api/v1/chat/history");
      lastEvent = h.last_event;
      for (const m of h.messages) addMessage(h.conversation_id, m);
      if (h.conversation_id) showState(h);
      showRating(h.invited, h.rated, h.conversation_id);
    } catch (err) {
      showBanner(err.message, true);
    }
    listen();
  }

  async function send(words, retryOf) {
    const body = { text: words };
    const id = retryOf ? retryOf.dataset.clientId : randomId();
    body.client_msg_id = id;
    if (product) body.product = product;
    let el = retryOf;
    if (!el) {
      el = messageElement({ from: "buyer", text: words });
      el.dataset.clientId = id;
      log.append(el);
      scrollDown();
    }
    el.classList.add("pending");
    el.classList.remove("failed");
    pending.set(id, el);
    try {
      const r = await call("POST", "/api/v1/chat/messages", body);
      addMessage(r.conversation_id, { id: r.message_id, from: "buyer", text: words, client_msg_id: id });
      for (const m of r.replies) addMessage(r.conversation_id, m);
      showState(r);
    } catch (err) {
      el.classList.remove("pending");
      el.classList.add("failed");
      if (!el.querySelector(".retry")) {
        const again = document.createElement("button");
        again.type = "button";
        again.className = "retry";
        again.textContent = "发送失败，点此重发";
        again.addEventListener("click", () => send(words, el));
        el.append(again);
      }
      showBanner(err.message, true);
    }
  }

  function submit() {
    const words = text.value.trim();
    if (!words) return;
    text.value = "";
    hideSuggestions();
    send(words);
    text.focus();
  }

  // Suggestions while typing (预输入).
  let suggestTimer = 0;
  let suggestSeq = 0;
  function hideSuggestions() {
    clearTimeout(suggestTimer);
    suggestSeq++;
    suggestBox.hidden = true;
    suggestBox.replaceChildren();
  }
  text.addEventListener("input", () => {
    clearTimeout(suggestTimer);
    const typed = text.value.trim();
    if (!typed || typed.length > 30) {
      hideSuggestions();
      return;
    }
    suggestTimer = setTimeout(async () => {
      const seq = ++suggestSeq;
      try {
        const r = await call("GET", "/api/v1/chat/suggest?q=" + encodeURIComponent(typed));
        if (seq !== suggestSeq) return;
        suggestBox.replaceChildren();
        for (const s of r.suggestions) {
          const li = document.createElement("li");
          const b = document.createElement("button");
          b.type = "button";
          b.className = "ask";
          b.dataset.q = s.question;
          b.textContent = s.question;
          li.append(b);
          suggestBox.append(li);
        }
        suggestBox.hidden = r.suggestions.length === 0;
      } catch (_) {
        hideSuggestions();
      }
    }, 200);
  });

  $("compose").addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === "Escape") {
      hideSuggestions();
    }
  });

  // Every question button (hot questions, menus, follow-ups, suggestions) asks it.
  document.addEventListener("click", (e) => {
    const b = e.target instanceof Element ? e.target.closest("button.ask") : null;
    if (b && b.dataset.q) {
      hideSuggestions();
      text.value = "";
      send(b.dataset.q);
    }
  });
  $("to-human").addEventListener("click", () => send("转人工"));

  const close = $("close");
  if (close) {
    close.addEventListener("click", () => window.parent.postMessage({ xiaoer: "close" }, "*"));
  }

  // Rating: a level, reasons when it is not good, an optional comment.
  for (const b of document.querySelectorAll("#rating .level")) {
    b.addEventListener("click", () => {
      ratingLevel = Number(b.dataset.level);
      for (const o of document.querySelectorAll("#rating .level")) {
        o.setAttribute("aria-checked", String(o === b));
      }
      $("reasons").hidden = ratingLevel > 3;
      $("rate").disabled = false;
    });
  }
  $("rate").addEventListener("click", async () => {
    const reasons = ratingLevel > 3 ? [] : Array.from(
      document.querySelectorAll("#reasons input:checked"), (i) => i.value);
    try {
      await call("POST", "/api/v1/chat/rating", {
        conversation_id: ratingFor || conversation,
        level: ratingLevel,
        reasons,
        comment: $("comment").value.trim(),
      });
      showRating(false, true);
      showBanner("感谢您的评价！");
    } catch (err) {
      showBanner(err.message, true);
    }
  });

  load();
})();
