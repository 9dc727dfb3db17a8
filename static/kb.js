// 知识库 pages (and the history import): the "try the bot" box answers in place, file
// imports upload with a progress bar and show the report, and "全选" ticks every row. Without this file the
// try box opens its own page.
"use strict";

document.querySelectorAll("form[data-try]").forEach((form) => {
  const out = form.parentElement.querySelector(".try-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = new URLSearchParams(new FormData(form));
    params.set("fragment", "1");
    out.textContent = "机器人思考中…";
    try {
      const res = await fetch(`${form.action}?${params}`, { credentials: "same-origin" });
      out.innerHTML = await res.text();
    } catch (e) {
      out.textContent = "请求失败，请重试";
    }
  });
});

document.querySelectorAll("input[data-check-all]").forEach((all) => {
  all.addEventListener("change", () => {
    const name = all.dataset.checkAll;
    all.form.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
      box.checked = all.checked;
    });
  });
});

// A bulk action with nothing ticked says so where the buttons are, instead of
// sending the form to be refused.
const bulk = document.getElementById("bulk");
if (bulk) {
  bulk.addEventListener("submit", (event) => {
    if (bulk.querySelector('input[name="ids"]:checked')) return;
    event.preventDefault();
    let note = bulk.querySelector(".bulk-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "bulk-note danger";
      note.setAttribute("role", "alert");
      bulk.querySelector(".bulk-bar").after(note);
    }
    note.textContent = "请先勾选要处理的问题";
  });
}

const say = (el, tag, text, cls) => {
  const node = document.createElement(tag);
  node.textContent = text;
  if (cls) node.className = cls;
  el.appendChild(node);
  return node;
};

const report = (el, status, body) => {
  el.textContent = "";
  if (body && body.ok) {
    const d = body.done;
    const text = d.products !== undefined
      ? `导入成功：${d.products} 个商品`
      : d.conversations !== undefined
        ? `导入成功：${d.conversations} 个会话（${d.messages} 条消息），跳过已导入的 ${d.skipped} 个`
        : `导入成功：新增 ${d.added} 条，更新 ${d.replaced} 条，未变 ${d.unchanged} 条，删除 ${d.removed} 条`;
    say(el, "p", text, "flash");
  } else if (body && body.rejected) {
    say(el, "p", `有 ${body.rejected.length} 行不合格，整份文件没有导入。请改正后重新上传：`, "alert");
    const list = say(el, "ul", "", "small");
    body.rejected.slice(0, 200).forEach((r) => {
      say(list, "li", r.line ? `第 ${r.line} 行：${r.message}` : r.message);
    });
  } else {
    const msg = body && body.error ? body.error.message : `导入失败（HTTP ${status}）`;
    say(el, "p", msg, "alert");
  }
};

document.querySelectorAll("form[data-upload]").forEach((form) => {
  const section = form.parentElement;
  const bar = section.querySelector(".upload-progress");
  const out = section.querySelector(".upload-report");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    const params = new URLSearchParams();
    params.set("format", /\.csv$/i.test(file.name) ? "csv" : "jsonl");
    const mode = form.querySelector("select[name=mode]");
    if (mode) params.set("mode", mode.value);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${form.dataset.upload}?${params}`);
    xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    bar.hidden = false;
    bar.value = 0;
    out.textContent = "上传中…";
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    };
    xhr.upload.onload = () => {
      bar.removeAttribute("value");
      out.textContent = "上传完成，正在检查每一行并写入…";
    };
    xhr.onload = () => {
      bar.value = 100;
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      report(out, xhr.status, body);
    };
    xhr.onerror = () => report(out, 0, null);
    xhr.send(file);
  });
});
