/*
 * The topic page, live (events from /topic/<id> through static/js/live.js, streamed or polled).
 * Events carry numbers only; this script fetches what this reader may see, rendered by the
 * server with the same post template as the page:
 *   post_created   -> on the last page: the new posts are appended; otherwise "N new replies".
 *   post_edited, post_liked, post_hidden, post_shown, post_withdrawn -> that post, re-fetched.
 *   topic_state    -> the composer, re-fetched (the text being typed is kept).
 *   topic_changed  -> a bar offering to reload (posts were moved in or out).
 * New content is announced politely (Live.announce); focus never moves.
 * Without this script the page works as before: reload to see what changed.
 */
(function () {
  "use strict";

  var root = null;
  var channel = "";
  var fetchingNew = false;
  var fetchAgain = false;
  var pendingNumbers = {};
  var postTimers = {};

  function format(template, count) {
    return (template || "").replace("{count}", String(count));
  }

  function announce(text) {
    if (text && window.Live) window.Live.announce(text);
  }

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true", Accept: "text/html" } });
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function process(el) {
    if (window.htmx) window.htmx.process(el);
  }

  function shownNumbers() {
    var numbers = [];
    root.querySelectorAll("article.post[id^='post-']").forEach(function (article) {
      var n = parseInt(article.id.slice(5), 10);
      if (!isNaN(n)) numbers.push(n);
    });
    return numbers;
  }

  function highestShown() {
    return shownNumbers().reduce(function (a, b) { return Math.max(a, b); }, 0);
  }

  // The reader has the last page: nothing is waiting behind a "Load later posts" link.
  function atEnd() {
    return !root.querySelector("[data-load-later]");
  }

  // --- New posts ---------------------------------------------------------------------------

  function showBar(count, firstNumber) {
    var bar = document.getElementById("new-replies-bar");
    if (!bar) return;
    var link = bar.querySelector("a");
    var label = count === 1 ? root.getAttribute("data-bar-one") : format(root.getAttribute("data-bar-other"), count);
    link.textContent = label;
    link.setAttribute("href", root.getAttribute("data-topic-url") + "/" + firstNumber + "#post-" + firstNumber);
    bar.hidden = false;
  }

  function waitingNumbers() {
    var highest = highestShown();
    return Object.keys(pendingNumbers)
      .map(Number)
      .filter(function (n) { return n > highest; })
      .sort(function (a, b) { return a - b; });
  }

  function announceNew(count) {
    announce(count === 1 ? root.getAttribute("data-new-reply-one") : format(root.getAttribute("data-new-replies"), count));
  }

  function appendNew() {
    if (fetchingNew) { fetchAgain = true; return; }
    fetchingNew = true;
    var after = highestShown();
    get(root.getAttribute("data-posts-url") + "?after=" + after)
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        var highest = parseInt(response.headers.get("X-Highest-Number") || "0", 10);
        return response.text().then(function (html) { return { html: html, highest: highest }; });
      })
      .then(function (answer) {
        var fragment = parse(answer.html);
        var added = 0;
        fragment.querySelectorAll("article.post").forEach(function (article) {
          if (document.getElementById(article.id)) return;
          article.classList.add("is-new");
          root.appendChild(article);
          process(article);
          added += 1;
        });
        if (added) announceNew(added);
        var beyond = answer.highest - highestShown();
        if (beyond > 0) showBar(beyond, highestShown() + 1);  // More than one page arrived at once.
      })
      .catch(function () {})
      .then(function () {
        fetchingNew = false;
        if (fetchAgain) { fetchAgain = false; appendNew(); }
      });
  }

  function onPostCreated(detail) {
    var number = (detail.data || {}).number;
    if (typeof number !== "number") return;
    pendingNumbers[number] = true;
    if (atEnd()) {
      appendNew();
      return;
    }
    var waiting = waitingNumbers();
    if (!waiting.length) return;
    showBar(waiting.length, waiting[0]);
    announceNew(waiting.length);
  }

  // --- A post changed ----------------------------------------------------------------------

  function focusables(el) {
    return Array.prototype.slice.call(el.querySelectorAll("a[href], button, summary, textarea, input, select"));
  }

  function replacePost(number) {
    var old = document.getElementById("post-" + number);
    if (!old || !root.contains(old)) return;
    get(root.getAttribute("data-posts-url") + "?number=" + number)
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = parse(html).querySelector("article#post-" + number);
        var current = document.getElementById("post-" + number);
        if (!fresh || !current) return;
        // Keep what the reader had: open details, the focused control, the focus highlight.
        var opened = Array.prototype.map.call(current.querySelectorAll("details"), function (d) { return d.open; });
        var active = document.activeElement;
        var activeIndex = current.contains(active) ? focusables(current).indexOf(active) : -1;
        if (current.classList.contains("is-focus")) fresh.classList.add("is-focus");
        current.replaceWith(fresh);
        process(fresh);
        fresh.querySelectorAll("details").forEach(function (d, i) { if (opened[i]) d.open = true; });
        if (activeIndex >= 0) {
          var same = focusables(fresh)[activeIndex];
          if (same) same.focus({ preventScroll: true });
        }
      })
      .catch(function () {});
  }

  function onPostChanged(detail) {
    var number = (detail.data || {}).number;
    if (typeof number !== "number") return;
    // Several likes in a burst make one request.
    window.clearTimeout(postTimers[number]);
    postTimers[number] = window.setTimeout(function () { replacePost(number); }, 250);
  }

  // --- The composer ------------------------------------------------------------------------

  var opensTimer = null;

  function typedText(composer) {
    var field = composer.querySelector("#composer-raw") || composer.querySelector("#composer-raw-kept");
    return field ? field.value : "";
  }

  function watchOpening() {
    window.clearTimeout(opensTimer);
    var composer = document.getElementById("composer");
    var opensAt = composer && composer.getAttribute("data-opens-at");
    if (!opensAt) return;
    var delay = new Date(opensAt).getTime() - Date.now() + 1000;
    // A scheduled topic opens by the clock, with no write to announce it: ask again then.
    if (delay > 0 && delay < 24 * 3600 * 1000) opensTimer = window.setTimeout(refreshComposer, delay);
  }

  function refreshComposer() {
    get(root.getAttribute("data-composer-url"))
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = parse(html).querySelector("#composer");
        var current = document.getElementById("composer");
        if (!fresh || !current) return;
        var couldReply = current.getAttribute("data-can-reply") === "true";
        var canReply = fresh.getAttribute("data-can-reply") === "true";
        if (couldReply && canReply) return;  // Still open: leave the form being typed in alone.
        var text = typedText(current);
        var hadFocus = current.contains(document.activeElement);
        current.replaceWith(fresh);
        process(fresh);
        var field = fresh.querySelector("#composer-raw") || fresh.querySelector("#composer-raw-kept");
        if (field && text && !field.value) {
          field.value = text;
          var kept = field.closest("[data-composer-kept]");
          if (kept) kept.hidden = false;
        }
        if (hadFocus && field) field.focus({ preventScroll: true });
        if (canReply && !couldReply) {
          announce(root.getAttribute("data-opened-label"));
        } else if (!canReply) {
          var reason = fresh.querySelector(".cannot-post p");
          announce(reason ? reason.textContent : "");
        }
        watchOpening();
      })
      .catch(function () {});
  }

  // --- Wiring ------------------------------------------------------------------------------

  function mine(handler) {
    return function (e) {
      var detail = e.detail || {};
      if (root && detail.channel === channel) handler(detail);
    };
  }

  function start() {
    root = document.querySelector("[data-topic-live]");
    if (!root || !window.fetch) return;
    channel = "/topic/" + root.getAttribute("data-topic-live");
    document.addEventListener("live:post_created", mine(onPostCreated));
    ["post_edited", "post_liked", "post_hidden", "post_shown", "post_withdrawn"].forEach(function (name) {
      document.addEventListener("live:" + name, mine(onPostChanged));
    });
    document.addEventListener("live:topic_state", mine(refreshComposer));
    document.addEventListener("live:topic_changed", mine(function () {
      var bar = document.getElementById("topic-changed-bar");
      if (bar) bar.hidden = false;
      announce(root.getAttribute("data-changed-label"));
    }));
    // Events were lost (the reader was away too long): fetch whatever is new, refresh the composer.
    document.addEventListener("live:reset", function () {
      if (atEnd()) appendNew();
      refreshComposer();
    });
    watchOpening();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
