// baomi web UI behaviour, loaded as a file (the strict CSP allows no inline script):
// the CSRF token on htmx requests, pages never restored from the back/forward cache, and the
// idle screen lock (C4.2.4).
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";

  // Every htmx request carries the session's CSRF token (ASVS V3.5.1).
  document.addEventListener("htmx:configRequest", function (event) {
    if (csrfToken) {
      event.detail.headers["X-CSRF-Token"] = csrfToken;
    }
  });

  // A page shown again from the back/forward cache (after logout, say) is fetched anew,
  // so the server decides what may be seen.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      window.location.reload();
    }
  });

  // ---- The idle screen lock (C4.2.4) -------------------------------------------------
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-idle-lock-seconds") || "0", 10);
  var dialog = document.getElementById("lock-dialog");
  if (!seconds || !dialog || typeof dialog.showModal !== "function") {
    return;
  }
  var form = document.getElementById("lock-form");
  var password = document.getElementById("lock-password");
  var errorBox = document.getElementById("lock-error");
  var expiredUrl = dialog.getAttribute("data-expired-url") || "/session-expired";
  var STORAGE_KEY = "baomi-screen-lock"; // tells the other tabs (never any data)
  var timer = null;
  var locked = false;
  var lastShared = 0;

  function share(state) {
    try {
      window.localStorage.setItem(STORAGE_KEY, state + ":" + Date.now());
    } catch (ignored) {
      // Storage may be disabled; each tab then locks on its own timer.
    }
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { lock(false); }, seconds * 1000);
  }

  function post(url, data) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken, "Accept": "application/json" },
      body: data || new FormData(),
    });
  }

  function expired(response) {
    return response.status === 401;
  }

  function lock(fromAnotherTab) {
    if (locked) {
      return;
    }
    locked = true;
    window.clearTimeout(timer);
    body.classList.add("is-locked");
    errorBox.hidden = true;
    password.value = "";
    dialog.showModal();
    password.focus();
    if (!fromAnotherTab) {
      share("locked");
      // The server keeps the lock too, so that a reload shows nothing either.
      post("/lock").then(function (response) {
        if (expired(response)) {
          window.location.assign(expiredUrl);
        }
      }).catch(function () { /* the lock stands in this tab anyway */ });
    }
  }

  function unlock(fromAnotherTab) {
    if (!locked) {
      return;
    }
    locked = false;
    dialog.close();
    body.classList.remove("is-locked");
    password.value = "";
    if (!fromAnotherTab) {
      share("unlocked");
    }
    schedule();
  }

  function showError(attribute) {
    errorBox.textContent = dialog.getAttribute(attribute) || "";
    errorBox.hidden = false;
    password.value = "";
    password.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    post("/unlock", new FormData(form)).then(function (response) {
      if (response.ok) {
        unlock(false);
      } else if (expired(response)) {
        return response.json().then(function (problem) {
          if (problem.code === "invalid_credentials") {
            showError("data-message-wrong");
          } else {
            window.location.assign(expiredUrl);
          }
        });
      } else if (response.status === 429) {
        showError("data-message-throttled");
      } else {
        showError("data-message-failed");
      }
    }).catch(function () {
      showError("data-message-failed");
    });
  });

  // Escape must not dismiss the lock.
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
  });

  function activity() {
    if (locked) {
      return;
    }
    schedule();
    var now = Date.now();
    if (now - lastShared > 5000) {
      lastShared = now;
      share("active");
    }
  }

  ["mousemove", "mousedown", "keydown", "wheel", "touchstart", "scroll"].forEach(function (name) {
    window.addEventListener(name, activity, { passive: true, capture: true });
  });

  window.addEventListener("storage", function (event) {
    if (event.key !== STORAGE_KEY || !event.newValue) {
      return;
    }
    var state = event.newValue.split(":")[0];
    if (state === "locked") {
      lock(true);
    } else if (state === "unlocked") {
      unlock(true);
    } else if (state === "active" && !locked) {
      schedule(); // activity in another tab; not passed on again, or tabs would ping-pong
    }
  });

  schedule();
})();
