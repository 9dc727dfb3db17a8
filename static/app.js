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
