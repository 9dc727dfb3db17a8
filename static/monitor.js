// 监控大屏 and 实时大屏: refresh the board when anything changes, and every 10 s for the
// waits; show 质检 red-line alerts as they happen.
"use strict";

(() => {
  const board = document.getElementById("board");
  if (!board) return;
  let timer = null;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const res = await fetch(board.dataset.src, { credentials: "same-origin" });
      if (res.ok) board.innerHTML = await res.text();
    }, 200);
  };
  const events = new EventSource("/desk/events");
  events.addEventListener("change", (e) => {
    const c = JSON.parse(e.data);
    if (c.kind !== "message" || c.from === "buyer") refresh();
  });
  window.xiaoerAlerts(events);
  setInterval(refresh, 10000);
})();
