/*
 * Polls, live: when a vote lands (poll_voted on /topic/<id>, through static/js/live.js) every
 * block of that poll on the page refetches itself as this reader sees it and swaps in the new
 * results and voter count, leaving the form (a choice being made) alone; when a moderator closes
 * or reopens it (poll_status) the whole block is swapped. The presenter view refetches its
 * content. A burst of votes makes at most one request per poll every MIN_GAP ms (the first at
 * once, the last within the gap), so a full room voting stays within the "within a second"
 * promise without every open page fetching on every vote. Without this script the forms still
 * work and a reload shows the results.
 */
(function () {
  "use strict";

  var MIN_GAP = 600;
  var busy = {};
  var last = {};

  function key(postId, name) { return postId + "/" + name; }

  function fetchHtml(url) {
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : null; });
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function refreshBlock(block, whole) {
    return fetchHtml(block.getAttribute("data-poll-url")).then(function (html) {
      if (!html || !block.isConnected) return;
      var fresh = parse(html).querySelector(".poll");
      if (!fresh) return;
      var form = block.querySelector(".poll-form");
      var typing = form && form.contains(document.activeElement);
      if (whole && !typing) {
        block.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
        return;
      }
      ["[data-poll-voters]", ".poll-results"].forEach(function (selector) {
        var now = block.querySelector(selector);
        var next = fresh.querySelector(selector);
        if (now && next) now.replaceWith(next);
      });
    });
  }

  function refreshPresenter(root) {
    return fetchHtml(window.location.pathname + window.location.search).then(function (html) {
      if (!html) return;
      var fresh = parse(html).querySelector("#poll-present-body");
      var current = document.getElementById("poll-present-body");
      if (fresh && current) current.replaceWith(fresh);
    });
  }

  function refresh(postId, name, whole) {
    var id = key(postId, name);
    if (busy[id]) { busy[id] = whole || busy[id] === "whole" ? "whole" : "again"; return; }
    var wait = (last[id] || 0) + MIN_GAP - Date.now();
    if (wait > 0) {
      busy[id] = whole ? "whole" : "again";
      window.setTimeout(function () { settle(postId, name, id); }, wait);
      return;
    }
    busy[id] = true;
    last[id] = Date.now();
    var selector = '[data-poll-post="' + postId + '"][data-poll-name="' + name + '"]';
    var jobs = [];
    document.querySelectorAll(".poll" + selector).forEach(function (block) {
      jobs.push(refreshBlock(block, whole));
    });
    var presenter = document.querySelector("[data-poll-present]" + selector);
    if (presenter) jobs.push(refreshPresenter(presenter));
    Promise.all(jobs).catch(function () {}).then(function () { settle(postId, name, id); });
  }

  // A request finished or a wait ended: go again if votes landed meanwhile.
  function settle(postId, name, id) {
    var pending = busy[id];
    busy[id] = false;
    if (pending === "again" || pending === "whole") refresh(postId, name, pending === "whole");
  }

  function onEvent(whole) {
    return function (e) {
      var data = (e.detail && e.detail.data) || {};
      if (data.post_id && data.poll_name) refresh(String(data.post_id), String(data.poll_name), whole);
    };
  }

  // The event's live page lists polls apart from the replies: a post with a poll adds its blocks
  // (newest first), leaving those already there, and choices being made in them, alone.
  function addNewPolls(e) {
    var data = (e.detail && e.detail.data) || {};
    var region = document.getElementById("live-polls");
    if (!data.polls || !region) return;
    fetchHtml(region.getAttribute("data-polls-url")).then(function (html) {
      if (!html) return;
      var fresh = parse(html).querySelectorAll(".poll");
      var heading = region.querySelector("h4");
      var after = heading;
      fresh.forEach(function (block) {
        var selector = '[data-poll-post="' + block.getAttribute("data-poll-post") + '"][data-poll-name="' +
          block.getAttribute("data-poll-name") + '"]';
        var present = region.querySelector(".poll" + selector);
        if (present) { after = present; return; }
        after.after(block);
        after = block;
        if (window.htmx) window.htmx.process(block);
      });
      if (fresh.length) region.hidden = false;
    });
  }

  document.addEventListener("live:post_created", addNewPolls);
  document.addEventListener("live:post_edited", addNewPolls);
  document.addEventListener("live:poll_voted", onEvent(false));
  document.addEventListener("live:poll_status", onEvent(true));
  document.addEventListener("live:reset", function () {
    var seen = {};
    document.querySelectorAll("[data-poll-post][data-poll-name]").forEach(function (el) {
      var id = key(el.getAttribute("data-poll-post"), el.getAttribute("data-poll-name"));
      if (seen[id]) return;
      seen[id] = true;
      refresh(el.getAttribute("data-poll-post"), el.getAttribute("data-poll-name"), true);
    });
  });
})();
