// The console works without this script; with it, a form is sent once, a decision that ends a case
// is confirmed first, and a notice prints from its button.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const ending = form.dataset.kind === "reject_application" ||
    (form.dataset.kind === "record_approval" && form.querySelector('input[name="approved"][value="false"]:checked'));
  if (ending && !window.confirm("此决定将结束本案，确认提交？")) {
    event.preventDefault();
    return;
  }
  for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
});
document.addEventListener("click", (event) => {
  if (event.target.matches("[data-print]")) window.print();
});
