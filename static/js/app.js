// Idle-session warning (T24): warn two minutes before the server-side session expires.
(function () {
  "use strict";
  var body = document.body;
  var minutes = parseInt(body.getAttribute("data-idle-timeout-minutes") || "0", 10);
  if (!minutes) { return; }
  var warning = document.getElementById("idle-warning");
  var stay = document.getElementById("idle-stay");
  var warnAfter = Math.max(minutes * 60 - 120, 30) * 1000;
  var timer;
  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      warning.hidden = false;
      stay.focus();
    }, warnAfter);
  }
  stay.addEventListener("click", function () {
    // Any authenticated request renews the session (SESSION_SAVE_EVERY_REQUEST).
    fetch(window.location.href, { credentials: "same-origin", method: "HEAD" }).finally(function () {
      warning.hidden = true;
      schedule();
    });
  });
  document.addEventListener("htmx:afterRequest", schedule);
  schedule();
})();
