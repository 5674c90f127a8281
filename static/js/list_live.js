/*
 * Topic lists, live: `topic_created` on the reader's /latest channels or /category/<id> (ids only)
 * -> ask the server how many of those topics this reader may see in this list; if any, show
 * the "N new topics" bar, a link that reloads the list, and say it politely. Focus never moves.
 */
(function () {
  "use strict";

  var bar = null;
  var ids = {};
  var timer = null;

  function refreshCount() {
    var list = Object.keys(ids);
    if (!list.length) return;
    var url = bar.getAttribute("data-count-url");
    var params = list.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
    fetch(url + (url.indexOf("?") === -1 ? "?" : "&") + params, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body || !body.count) return;
        var link = bar.querySelector("a");
        if (link.textContent === body.label && !bar.hidden) return;
        link.textContent = body.label;
        bar.hidden = false;
        if (window.Live) window.Live.announce(body.label);
      })
      .catch(function () {});
  }

  function start() {
    bar = document.getElementById("new-topics-bar");
    if (!bar || !window.fetch) return;
    // One channel per audience the reader belongs to (forum/live.py: list_channels).
    var channels = bar.getAttribute("data-live-channels").split(" ");
    document.addEventListener("live:topic_created", function (e) {
      var detail = e.detail || {};
      var topicId = (detail.data || {}).topic_id;
      if (channels.indexOf(detail.channel) === -1 || typeof topicId !== "number") return;
      if (Object.keys(ids).length >= 100) return;  // The bar says enough already.
      ids[topicId] = true;
      window.clearTimeout(timer);
      timer = window.setTimeout(refreshCount, 300);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
