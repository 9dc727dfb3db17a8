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
