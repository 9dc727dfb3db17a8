// Small conveniences for the console; every page works without this file.
"use strict";

// Forms with data-confirm ask before submitting (e.g. disabling an account).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Selects in forms marked data-autosubmit submit on change (e.g. the 接待状态 switch).
document.addEventListener("change", (event) => {
  const form = event.target instanceof HTMLSelectElement ? event.target.form : null;
  if (form && form.hasAttribute("data-autosubmit")) {
    form.requestSubmit();
  }
});

// A post form is sent once: a double click on 创建工单 or 交还机器人 must not create
// two tickets or answer "not yours" to the second click. Forms handled by script
// (they prevent the default) are left alone; coming back with the browser's Back
// button makes the page's forms sendable again.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
  if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
  if (form.dataset.sent === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
});
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-sent]").forEach((f) => delete f.dataset.sent);
});

// 返回上一页 on error pages: back to the form that was sent, with what was typed in it.
document.querySelectorAll("a[data-back]").forEach((a) => {
  if (window.history.length < 2) return;
  a.hidden = false;
  a.addEventListener("click", (event) => {
    event.preventDefault();
    window.history.back();
  });
});

// 质检 red-line alerts as they happen (the server sends them to supervisors and the
// owner only), listed in the page's #alerts section: the monitor and the workspace.
window.xiaoerAlerts = (events) => {
  const alerts = document.getElementById("alerts");
  if (!alerts) return;
  events.addEventListener("alert", (e) => {
    const a = JSON.parse(e.data);
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/conversations/${a.conv}`;
    link.textContent = `会话 #${a.conv}`;
    item.append(`${new Date().toLocaleTimeString()} ${a.agent}：${a.detail} `, link);
    alerts.querySelector("ul").prepend(item);
    alerts.hidden = false;
  });
};
