// Drafts that survive the network, for every composer (a reply, a new topic, an edit): a form
// with data-local-draft="<user>:<draft key>" (templates/forum/_local_draft.html).
//
// - Each keystroke keeps a copy of the text on this device (localStorage) next to the server's
//   draft (htmx autosave); when the server cannot be reached the status says so plainly.
// - On load, the copy on this device is restored when it is newer than the server's draft.
// - Posting goes through fetch: a submit that cannot reach the server (offline, 502-504) keeps
//   the text and is sent again when the connection returns, with the same idempotency key, so
//   the post is made once. A page the server answers with (errors to fix) is shown as usual.
// - A small service worker (/sw.js) keeps the last copy of composer pages, so they reload offline.
(function () {
  "use strict";

  var PREFIX = "mplf-draft:";
  var FIELDS = ["raw", "title", "tags", "category", "reply_to", "opens_at"];
  var RETRY_MS = 15000;
  var UNREACHABLE = [502, 503, 504];

  function store() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function keyOf(form) { return PREFIX + form.getAttribute("data-local-draft"); }
  function read(form) {
    var s = store();
    if (!s) return null;
    try { return JSON.parse(s.getItem(keyOf(form)) || "null"); } catch (e) { return null; }
  }
  function write(form, entry) {
    var s = store();
    if (!s) return;
    try { s.setItem(keyOf(form), JSON.stringify(entry)); } catch (e) { /* storage full or refused */ }
  }
  function forget(form) {
    var s = store();
    if (s) s.removeItem(keyOf(form));
  }

  function field(form, name) { return form.elements.namedItem(name); }
  function values(form) {
    var out = {};
    FIELDS.forEach(function (name) {
      var input = field(form, name);
      if (input && input.value !== undefined) out[name] = input.value;
    });
    return out;
  }
  function idempotencyKey(form) {
    var input = field(form, "idempotency_key");
    return input ? input.value : "";
  }

  function say(form, label) {
    var status = form.querySelector("[data-draft-status]") || document.getElementById("draft-status");
    var text = form.getAttribute("data-label-" + label);
    if (status && text) status.textContent = text;
  }

  function remember(form, pending) {
    var entry = read(form) || {};
    entry.fields = values(form);
    entry.savedAt = Date.now();
    entry.key = idempotencyKey(form);
    entry.pending = !!pending;
    write(form, entry);
  }

  function restore(form) {
    var entry = read(form);
    if (!entry || !entry.fields) return;
    var raw = field(form, "raw");
    var serverSavedAt = Number(form.getAttribute("data-server-saved") || 0) * 1000;
    var differs = raw && entry.fields.raw !== undefined && entry.fields.raw !== raw.value;
    if (!entry.pending && !(differs && entry.savedAt > serverSavedAt)) return;
    FIELDS.forEach(function (name) {
      var input = field(form, name);
      if (input && entry.fields[name] !== undefined) input.value = entry.fields[name];
    });
    var replyTo = field(form, "reply_to");
    var note = document.getElementById("composer-replying-to");
    var number = document.getElementById("composer-reply-number");
    if (replyTo && note) {
      note.hidden = !replyTo.value;
      if (number) number.textContent = replyTo.value ? "#" + replyTo.value : "";
    }
    if (entry.pending && entry.key && field(form, "idempotency_key")) {
      field(form, "idempotency_key").value = entry.key;  // the retry must be recognised as the same post
      say(form, "queued");
      retryLater(form);
    } else {
      say(form, "restored");
      if (navigator.onLine) sync(form);
    }
  }

  // The server's draft catches up (htmx posts the form on "input").
  function sync(form) {
    if (!form.hasAttribute("hx-post")) return;
    var raw = field(form, "raw");
    if (raw) raw.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function retryLater(form) {
    clearTimeout(form._retry);
    form._retry = setTimeout(function () {
      if (navigator.onLine) send(form);
      else retryLater(form);
    }, RETRY_MS);
  }

  function queued(form) {
    remember(form, true);
    say(form, "queued");
    retryLater(form);
  }

  function send(form) {
    if (form._sending) return;
    form._sending = true;
    clearTimeout(form._retry);
    say(form, "sending");
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        form._sending = false;
        if (response.ok && response.redirected) {
          forget(form);  // posted: the server kept it and cleared its own draft
          window.location.assign(response.url);
        } else if (UNREACHABLE.indexOf(response.status) >= 0) {
          queued(form);
        } else {
          // The server answered with a page (errors to fix, a refusal): show it the usual way;
          // the copy on this device stays until the post is made.
          remember(form, false);
          form._submitting = true;
          HTMLFormElement.prototype.submit.call(form);
        }
      })
      .catch(function () {
        form._sending = false;
        queued(form);
      });
  }

  function composerOf(target) {
    return target && target.closest ? target.closest("form[data-local-draft]") : null;
  }

  document.addEventListener("input", function (event) {
    var form = composerOf(event.target);
    if (!form) return;
    var entry = read(form);
    remember(form, entry && entry.pending);
    if (!navigator.onLine) say(form, "local");
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-local-draft]")) return;
    if (event.submitter && event.submitter.name === "preview") return;
    event.preventDefault();
    form._submitting = true;  // no draft autosave after this: the post clears the server's draft
    remember(form, true);
    if (!navigator.onLine) { queued(form); return; }
    send(form);
  });

  // htmx's autosave failed (offline, server away): the copy on this device is what is kept.
  ["htmx:sendError", "htmx:responseError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = composerOf(event.target);
      if (form) say(form, "local");
    });
  });
  document.addEventListener("htmx:confirm", function (event) {
    var form = composerOf(event.target);
    if (form && form._submitting && !(event.detail && event.detail.elt && event.detail.elt.name === "preview")) {
      event.preventDefault();
    }
  });

  window.addEventListener("online", function () {
    document.querySelectorAll("form[data-local-draft]").forEach(function (form) {
      var entry = read(form);
      if (entry && entry.pending) send(form);
      else if (entry) sync(form);
    });
  });
  window.addEventListener("offline", function () {
    document.querySelectorAll("form[data-local-draft]").forEach(function (form) {
      if (read(form)) say(form, "local");
    });
  });

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("form[data-local-draft]").forEach(function (form) {
      if (form._localDraft) return;
      form._localDraft = true;
      restore(form);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  // The live topic page swaps the composer in again (topic opened or closed).
  document.addEventListener("htmx:load", function (event) { init(event.target.parentNode || document); });

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* offline reload is a bonus */ });
  }
})();
