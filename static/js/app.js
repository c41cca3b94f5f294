// Small enhancements that need a script; every page works without it.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// Autosave of application sections: when the caseworker typed in a section while its
// save was on the way, the answer would replace the section and lose those keystrokes.
// Keep the page as it is instead, and save again with what is there now.
const typedAt = new WeakMap();
const sentAt = new WeakMap();
document.addEventListener("input", (event) => {
  const form = event.target.closest("form[data-autosave]");
  if (form) typedAt.set(form, performance.now());
});
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("form[data-autosave]");
  if (form) sentAt.set(form, performance.now());
});
document.addEventListener("htmx:beforeSwap", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("form[data-autosave]");
  if (form && (typedAt.get(form) || 0) > (sentAt.get(form) || 0)) {
    event.detail.shouldSwap = false;
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }
});
