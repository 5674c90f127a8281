/*
 * The live event page: when a reply lands in one of the event's questions (a live event on
 * /topic/<id> or /event/<id>, through static/js/live.js), refetch the newest replies and
 * counters; when the event goes live or ends (/event/<id>), reload (also a page opened before
 * the start, which follows /event/<id> only). Once a minute, say this page is still open.
 * The page works without this script (reload to see new replies).
 */
(function () {
  "use strict";

  var timer = null;

  function discussion() { return document.getElementById("live-discussion"); }

  function refreshPosts() {
    var root = discussion();
    if (!root) return;
    window.clearTimeout(timer);
    // Several replies at once make one request.
    timer = window.setTimeout(function () {
      fetch(root.getAttribute("data-posts-url"), { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) return;
          var region = document.getElementById("live-posts-region");
          var before = region ? region.querySelectorAll(".live-post").length : 0;
          if (region) region.outerHTML = html;
          var added = document.querySelectorAll("#live-posts .live-post").length - before;
          if (added > 0 && window.Live) {
            var label = discussion().getAttribute("data-new-reply-label");
            if (label) window.Live.announce(label);
          }
        });
    }, 250);
  }

  function onLiveEvent(e) {
    var detail = e.detail || {};
    var channel = detail.channel || "";
    var root = discussion() || document.querySelector("[data-event-waiting]");
    if (!root) return;
    var channels = (root.getAttribute("data-live-channels") || "").split(/\s+/);
    if (channels.indexOf(channel) === -1) return;
    if (detail.event === "live" || detail.event === "ended") {
      window.location.reload();
      return;
    }
    // A reply in a question (/topic/<id>) or one posted from an event page (/event/<id>).
    refreshPosts();
  }

  function sayHere() {
    var root = discussion();
    if (!root || !root.getAttribute("data-live-channels")) return;
    var token = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
    fetch(root.getAttribute("data-here-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        document.querySelectorAll("[data-counter=present]").forEach(function (el) {
          el.textContent = body.label || String(body.present);
        });
      })
      .catch(function () {});
  }

  ["post_created", "post_edited", "post_hidden", "post_shown", "post_withdrawn", "live", "ended"].forEach(function (name) {
    document.addEventListener("live:" + name, onLiveEvent);
  });
  document.addEventListener("live:reset", refreshPosts);

  function start() {
    sayHere();
    window.setInterval(sayHere, 60000);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
