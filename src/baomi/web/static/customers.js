// The customer pages' behaviour, loaded as a file (strict CSP): the reveal dialog (C4.3.2).
// htmx loads the reveal form into the dialog; this opens it, and closes it when the server
// answers with the values (swapped into the page out of band, marked data-revealed) or on
// Cancel.
(function () {
  "use strict";

  var dialog = document.getElementById("reveal-dialog");
  var body = document.getElementById("reveal-dialog-body");
  if (!dialog || !body || typeof dialog.showModal !== "function") {
    return; // without the dialog the reveal links open the form as a page
  }

  function close() {
    if (dialog.open) {
      dialog.close();
    }
    body.textContent = "";
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== body || !body.firstElementChild) {
      return;
    }
    if (body.querySelector("[data-revealed]")) {
      close();
      return;
    }
    if (!dialog.open) {
      dialog.showModal();
    }
    // The input that needs attention: one in error, else the code asked for, else the first.
    var first = ["[aria-invalid='true']", "#reveal-otp", "select, textarea"]
      .map(function (selector) { return body.querySelector(selector); })
      .filter(Boolean)[0];
    if (first) {
      first.focus();
    }
  });

  body.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.closest("[data-close-dialog]")) {
      event.preventDefault();
      close();
    }
  });

  dialog.addEventListener("close", function () {
    body.textContent = "";
  });
})();
