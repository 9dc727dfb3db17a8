// xiaoer chat widget. Put one tag on any shop page:
//
//   <script src="https://cs.example.com/static/widget.js" data-shop="小二杂货铺"
//           data-product="TEE-01" async></script>
//
// data-shop: the name on the button's tooltip; data-product: the SKU the page shows
// (the bot then answers about that product); data-position: "left" or "right" (the
// default); data-color: the button colour (default #e8590c).
//
// The widget opens the shop's chat page in a floating frame. It keeps the buyer's token
// in this site's localStorage and hands it to the frame in the URL fragment (never sent
// to any server in the URL), so the buyer keeps their conversation across pages even
// where browsers withhold cookies inside frames.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__xiaoerWidget) return;
  window.__xiaoerWidget = true;

  var origin = new URL(script.src, location.href).origin;
  var shop = script.getAttribute("data-shop") || "";
  var productSku = script.getAttribute("data-product") || "";
  var left = script.getAttribute("data-position") === "left";
  var color = script.getAttribute("data-color") || "#e8590c";
  if (!/^#[0-9a-fA-F]{3,8}$/.test(color)) color = "#e8590c";

  function newToken() {
    var bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var key = "xiaoer_buyer";
  var token;
  try {
    token = localStorage.getItem(key);
    if (!/^[A-Za-z0-9_-]{32,128}$/.test(token || "")) {
      token = newToken();
      localStorage.setItem(key, token);
    }
  } catch (e) {
    token = newToken(); // storage blocked: this page visit only
  }

  var side = left ? "left" : "right";
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = "在线客服";
  button.title = shop ? shop + " · 在线客服" : "在线客服";
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;" +
    "border:0;border-radius:999px;padding:12px 20px;background:" + color + ";color:#fff;" +
    "font:15px/1.2 -apple-system,'PingFang SC','Microsoft YaHei',sans-serif;" +
    "box-shadow:0 6px 20px rgba(0,0,0,.2);cursor:pointer;";

  var frame = null;
  function open() {
    if (!frame) {
      var src = origin + "/chat?embed=1";
      if (productSku) src += "&product=" + encodeURIComponent(productSku);
      frame = document.createElement("iframe");
      frame.src = src + "#b=" + token;
      frame.title = "在线客服";
      frame.setAttribute("allow", "clipboard-write");
      frame.style.cssText = "position:fixed;bottom:80px;" + side + ":20px;z-index:2147483000;" +
        "width:380px;height:600px;max-width:calc(100vw - 40px);max-height:calc(100vh - 100px);" +
        "border:0;border-radius:12px;background:#fff;box-shadow:0 12px 40px rgba(0,0,0,.25);";
      document.body.appendChild(frame);
    }
    frame.style.display = "block";
    button.setAttribute("aria-expanded", "true");
  }
  function close() {
    if (frame) frame.style.display = "none";
    button.setAttribute("aria-expanded", "false");
  }
  button.addEventListener("click", function () {
    if (frame && frame.style.display !== "none") close();
    else open();
  });
  window.addEventListener("message", function (e) {
    if (e.origin === origin && e.data && e.data.xiaoer === "close") close();
  });

  function mount() {
    document.body.appendChild(button);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
