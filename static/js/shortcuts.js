// Keyboard shortcuts of the agent pages and the "?" help dialog.
// Every shortcut only moves focus to, or activates, a control that is also
// reachable with Tab, so the pages work the same without this file.
(function () {
  "use strict";

  var STORAGE_KEY = "supportdesk.singleKeyShortcuts";
  var dialog = null;
  var waitingForSecondKey = false;

  function shortcutsEnabled() {
    try {
      return window.localStorage.getItem(STORAGE_KEY) !== "off";
    } catch (error) {
      return true;
    }
  }

  function setShortcutsEnabled(enabled) {
    try {
      window.localStorage.setItem(STORAGE_KEY, enabled ? "on" : "off");
    } catch (error) {
      // Private browsing without storage: the choice lasts for this page.
    }
  }

  function isTextEntry(element) {
    if (!element || !element.tagName) return false;
    var tag = element.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || element.isContentEditable) return true;
    if (tag !== "input") return false;
    var type = (element.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) === -1;
  }

  function focusControl(selector) {
    var control = document.querySelector(selector);
    if (!control) return false;
    control.focus();
    control.scrollIntoView({ block: "center" });
    return true;
  }

  function submitForm(selector) {
    var form = document.querySelector(selector);
    if (!form) return false;
    form.requestSubmit();
    return true;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  // Take next from any page: the queue has its own form, other pages post one.
  function takeNext() {
    if (submitForm("#take-next-form")) return;
    var form = document.createElement("form");
    form.method = "post";
    form.action = dialog.dataset.takeNextUrl;
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrfToken();
    form.appendChild(token);
    document.body.appendChild(form);
    form.submit();
  }

  function caseLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-case-link]"));
  }

  function moveInQueue(step) {
    var links = caseLinks();
    if (!links.length) return;
    var index = links.indexOf(document.activeElement);
    var next = index === -1 ? 0 : Math.min(Math.max(index + step, 0), links.length - 1);
    links[next].focus();
  }

  function toggleSelection() {
    var row = document.activeElement && document.activeElement.closest("[data-queue-row]");
    var box = row && row.querySelector("input[type=checkbox]");
    if (box) box.checked = !box.checked;
  }

  function openHelp() {
    if (!dialog.open) dialog.showModal();
  }

  var singleKeys = {
    "?": openHelp,
    n: takeNext,
    j: function () { moveInQueue(1); },
    k: function () { moveInQueue(-1); },
    x: toggleSelection,
    r: function () { focusControl("#id_reply_body"); },
    p: function () { focusControl("#id_note_body"); },
    a: function () { submitForm("#take-button-form"); },
    s: function () { focusControl("#status-select"); },
    t: function () { focusControl("#id_tag_tag"); },
    "/": function () {
      if (!focusControl("#id_q")) window.location.href = dialog.dataset.queueUrl;
    },
  };

  function onKeyDown(event) {
    if (event.defaultPrevented) return;
    var target = event.target;
    // Ctrl+Enter (Cmd+Enter on a Mac) sends the text being written.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) &&
        target.tagName === "TEXTAREA" && target.form) {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (event.key === "Escape" && isTextEntry(target)) {
      target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTextEntry(target) || dialog.open || !shortcutsEnabled()) return;
    if (waitingForSecondKey) {
      waitingForSecondKey = false;
      if (event.key === "q") {
        event.preventDefault();
        window.location.href = dialog.dataset.queueUrl;
      }
      return;
    }
    if (event.key === "g") {
      waitingForSecondKey = true;
      window.setTimeout(function () { waitingForSecondKey = false; }, 1500);
      return;
    }
    var action = singleKeys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  }

  function start() {
    dialog = document.getElementById("shortcuts-dialog");
    if (!dialog) return;
    var toggle = document.getElementById("shortcuts-enabled");
    toggle.checked = shortcutsEnabled();
    toggle.addEventListener("change", function () { setShortcutsEnabled(toggle.checked); });
    var link = document.getElementById("shortcuts-link");
    if (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        openHelp();
      });
    }
    document.addEventListener("keydown", onKeyDown);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
