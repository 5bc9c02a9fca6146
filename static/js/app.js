// Small behaviours on top of htmx: error notices and double-submit guards.
(function () {
  "use strict";

  function showToast(text) {
    var toast = document.getElementById("toast");
    if (!toast) return;
    toast.textContent = text;
    toast.hidden = false;
    window.clearTimeout(showToast.timer);
    showToast.timer = window.setTimeout(function () { toast.hidden = true; }, 8000);
  }

  // Errors other than 403, 409, 422 and 429 are not swapped into the page
  // (see htmx-config in base.html); tell the user instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 404) {
      showToast("That item no longer exists. Reload the page.");
    } else {
      showToast("Something went wrong on the server (" + status + "). Try again in a minute.");
    }
  });
  // A response without a fragment to swap sends its message in HX-Trigger,
  // such as a failed CSRF check (supportdesk/views.py).
  document.addEventListener("showNotice", function (event) {
    showToast(event.detail.value);
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("The server could not be reached. Check your connection and try again.");
  });

  // A polled region marked data-swap-if-changed is only replaced when its
  // text changes, so that screen readers announce changes, not every poll.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute("data-swap-if-changed")) return;
    var incoming = document.createElement("template");
    incoming.innerHTML = event.detail.serverResponse;
    var squash = function (text) { return text.replace(/\s+/g, " ").trim(); };
    if (squash(incoming.content.textContent) === squash(target.textContent)) {
      event.detail.shouldSwap = false;
    }
  });

  // After an action replaces a region, htmx gives focus back to the control
  // the user was on when the new content has an element with the same id.
  // When that control is gone (the Approve button after an approval), focus
  // moves to the region's [data-swap-focus] message instead of falling back
  // to <body>. A message that does not take focus is read out through the
  // #announcer live region, which stays outside the swapped region.
  //
  // An error response (4xx) instead moves focus to whichever comes first: the
  // first invalid field or the first error message that takes focus
  // ([data-error-focus]). Screen readers read an invalid field's error
  // through its aria-describedby. The control the agent was on is usually
  // gone or disabled by then, and focus would otherwise fall back to <body>.
  document.addEventListener("htmx:afterSettle", function (event) {
    var region = event.target;
    if (!region.querySelector) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 400 && status < 500) {
      var error = region.querySelector('[aria-invalid="true"], [data-error-focus]');
      if (error) {
        error.focus();
        return;
      }
    }
    var message = region.matches("[data-swap-focus]") ? region : region.querySelector("[data-swap-focus]");
    if (!message) return;
    var active = document.activeElement;
    // After a reply or note the agent's text box is still there, now empty.
    // Leaving focus in it would make the next shortcut key (p for a note)
    // type into the reply box, so the message takes focus instead.
    var leaveTextEntry = message.getAttribute("data-swap-focus") === "leave-text-entry" &&
      active && active.matches && active.matches("textarea, input:not([type=hidden])");
    if (!active || active === document.body || !document.body.contains(active) || leaveTextEntry) {
      message.focus();
      return;
    }
    var announcer = document.getElementById("announcer");
    if (announcer) announcer.textContent = message.textContent.trim();
  });

  // The refund form's eligibility box lists quantity errors with ids such as
  // id_qty-7_error. After htmx swaps the box, mark each quantity input
  // invalid and point it at its message, or clear both when it has none.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "eligibility") return;
    document.querySelectorAll("input.qty-input").forEach(function (input) {
      var message = document.getElementById(input.id + "_error");
      if (message) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", message.id);
      } else {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      }
    });
  });

  // A form submitted the classic way disables its button, so a double click
  // sends one request. The server also ignores a repeated submission.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) return;
    form.querySelectorAll("[data-disable-on-submit]").forEach(function (button) {
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
