// Small enhancements that need a script; every page works without it.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// Autosave of application sections (cases/_section.html): never lose what was typed.
//
// A section saves 600 ms after a change and 5 s into a typing pause (each keystroke
// postpones it, because the answer replaces every input of the section). Before any other
// submit, link or upload of the page goes, the pending saves are sent at once and the page
// waits for them: a full-page POST or a navigation would otherwise win the race and drop
// what was typed last. A save that fails keeps the caseworker on the page, says so at the
// section, and leaving the page asks first.
const autosave = (() => {
  const AFTER_CHANGE_MS = 600;
  const TYPING_PAUSE_MS = 5000;
  const sections = new Map(); // key -> {timer, inFlight, dirty, typedInFlight, failed}
  let waiters = [];

  const stateOf = (key) => {
    if (!sections.has(key)) {
      sections.set(key, { timer: null, inFlight: false, dirty: false, typedInFlight: false, failed: false });
    }
    return sections.get(key);
  };
  const formOf = (key) => document.querySelector(`form[data-autosave="${key}"]`);
  const keyOf = (element) => {
    const form = element && element.closest && element.closest("form[data-autosave]");
    return form ? form.dataset.autosave : null;
  };
  // Only the section form's own request: the region selects inside it load cities by htmx too.
  // The request's element, not detail.elt: once the swap removed the form, htmx dispatches
  // afterRequest again from a parent still in the page and detail.elt names that parent.
  const requestKey = (event) => {
    const config = event.detail.requestConfig;
    const elt = (config && config.elt) || event.detail.elt;
    return elt && elt.matches && elt.matches("form[data-autosave]") ? elt.dataset.autosave : null;
  };

  const show = (key, state) => {
    const label = document.querySelector(`#section-${key} [data-save-state]`);
    if (!label) return;
    label.dataset.state = state;
    label.classList.toggle("saved", state === "saved");
    label.classList.toggle("failed", state === "failed");
    // Written anew even when unchanged, so that screen readers announce it (aria-live).
    label.textContent = state ? label.dataset[state] || "" : "";
  };

  const schedule = (key, delay) => {
    const state = stateOf(key);
    clearTimeout(state.timer);
    state.timer = setTimeout(() => send(key), delay);
  };

  const send = (key) => {
    const state = stateOf(key);
    clearTimeout(state.timer);
    state.timer = null;
    const form = formOf(key);
    if (!form || state.inFlight) return; // a save in flight sends again when it ends
    htmx.trigger(form, "autosave");
  };

  const busy = (state) => state.timer !== null || state.inFlight || state.dirty;
  const pending = () => [...sections.values()].some((s) => busy(s) || s.failed);

  const settle = () => {
    const states = [...sections.values()];
    if (states.some((s) => s.inFlight)) return;
    const failed = states.some((s) => s.failed);
    if (!failed && states.some(busy)) return;
    const done = waiters;
    waiters = [];
    done.forEach((resolve) => resolve(!failed));
  };

  // Send every pending save now; resolves true once all are stored, false if one failed.
  const flush = () =>
    new Promise((resolve) => {
      waiters.push(resolve);
      for (const [key, state] of sections) {
        if (state.timer !== null || (state.dirty && !state.inFlight)) send(key);
      }
      settle();
    });

  document.addEventListener("input", (event) => {
    const key = keyOf(event.target);
    if (!key) return;
    const state = stateOf(key);
    state.dirty = true;
    if (state.inFlight) state.typedInFlight = true;
    schedule(key, TYPING_PAUSE_MS);
  });
  document.addEventListener("change", (event) => {
    const key = keyOf(event.target);
    if (!key) return;
    const state = stateOf(key);
    state.dirty = true;
    if (state.inFlight) state.typedInFlight = true;
    schedule(key, AFTER_CHANGE_MS);
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const key = requestKey(event);
    if (!key) return;
    const state = stateOf(key);
    clearTimeout(state.timer);
    state.timer = null;
    state.inFlight = true;
    state.dirty = false; // the request carries every value the section has now
    state.typedInFlight = false;
    show(key, "saving");
  });
  // An answer that arrives while the caseworker types in the section would replace those
  // keystrokes with the saved state: keep the page as it is and save again instead.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const key = requestKey(event);
    if (key && stateOf(key).typedInFlight) event.detail.shouldSwap = false;
  });
  // Reaches the document even when the swap removed the form (htmx re-dispatches it then).
  document.addEventListener("htmx:afterRequest", (event) => {
    const key = requestKey(event);
    if (!key) return;
    const state = stateOf(key);
    state.inFlight = false;
    if (!event.detail.successful) {
      state.failed = true;
      state.dirty = true; // still to be saved: the next flush or change tries again
      show(key, "failed");
    } else {
      state.failed = false;
      if (state.typedInFlight) {
        state.dirty = true;
        state.typedInFlight = false;
      }
      if (state.dirty) {
        schedule(key, waiters.length ? 0 : AFTER_CHANGE_MS);
      } else {
        show(key, "saved");
      }
    }
    settle();
  });

  // Before leaving: links (other than to a place on this page) and every other form.
  const released = new WeakSet();
  const stopped = (ok) => {
    if (ok) return false;
    const failed = document.querySelector('[data-save-state][data-state="failed"]');
    if (failed) failed.scrollIntoView({ block: "center" });
    return true;
  };
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest && event.target.closest("a[href]");
      if (!link || event.defaultPrevented || !pending()) return;
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      if ((link.target && link.target !== "_self") || link.hasAttribute("download")) return;
      const url = new URL(link.href, window.location.href);
      const here = window.location;
      if (url.hash && url.origin === here.origin && url.pathname === here.pathname && url.search === here.search) {
        return; // a section of this page
      }
      event.preventDefault();
      flush().then((ok) => {
        if (!stopped(ok)) window.location.assign(link.href);
      });
    },
    true,
  );
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (form.matches("form[data-autosave]")) return; // htmx saves the section itself
      if (released.has(form)) {
        released.delete(form);
        return;
      }
      if (!pending()) return;
      event.preventDefault();
      const submitter = event.submitter;
      flush().then((ok) => {
        if (stopped(ok)) return;
        released.add(form);
        if (submitter && submitter.form === form) form.requestSubmit(submitter);
        else form.requestSubmit();
      });
    },
    true,
  );
  window.addEventListener("beforeunload", (event) => {
    if (!pending()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers show the warning only with this set
  });

  return { flush, pending };
})();

// The error summary (GOV.UK pattern): focused when the refused form comes back (a page, or
// a form htmx swaps in, as the pre-check's), and each of its links moves the focus to the
// field it names, not only the scroll position.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  });
  function focusNewSummary() {
    var summary = document.querySelector(".error-summary");
    if (!summary || summary.dataset.focused) return;
    summary.dataset.focused = "true";
    summary.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusNewSummary);
  } else {
    focusNewSummary();
  }
  document.addEventListener("htmx:afterSettle", focusNewSummary);
})();
