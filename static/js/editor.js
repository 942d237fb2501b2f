// KP editor: keyboard focus for rows added by htmx, and a visible note on rows marked "entfernen".
// No inline scripts (CSP script-src 'self'); everything else is plain HTML forms and htmx attributes.
(function () {
  "use strict";

  function updateDeleteNote(box) {
    var row = box.closest(".formset-row");
    var note = row && row.querySelector(".delete-note");
    if (note) { note.hidden = !box.checked; }
  }

  // A new row appended by "… hinzufügen" (hx-swap="beforeend"): move the focus to its first field,
  // so that keyboard users continue typing where the row appeared.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.classList || !target.classList.contains("formset-rows")) { return; }
    var rows = target.querySelectorAll(".formset-row");
    var last = rows[rows.length - 1];
    var field = last && last.querySelector("textarea, select, input:not([type=hidden])");
    if (field) { field.focus(); }
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box && box.classList && box.classList.contains("row-delete")) { updateDeleteNote(box); }
  });

  Array.prototype.forEach.call(document.querySelectorAll(".row-delete"), updateDeleteNote);
})();
