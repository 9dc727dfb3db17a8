// 监控大屏: refresh the board when anything changes, and every 10 s for the waits.
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
  setInterval(refresh, 10000);
})();
