/*
 * Live updates, hand-written and small. Pages opt in with
 *   <div data-live-channels="/topic/12 /latest">
 * and react to DOM events on `document`:
 *   document.addEventListener("live:post_created", (e) => e.detail)  // {id, event, channel, data}
 * One EventSource per page for all its channels (the browser resends Last-Event-ID on reconnect,
 * so nothing is missed); if the stream cannot be opened, the page polls /live/poll instead.
 * Built in: the header's unread count ([data-live-unread-count]) and a polite announcement.
 * Every page works without this script.
 */
(function () {
  "use strict";

  var STREAM_URL = "/live/stream";
  var POLL_URL = "/live/poll";
  var region = null;
  var lastId = "";

  function channelsOnPage() {
    var seen = {};
    var channels = [];
    document.querySelectorAll("[data-live-channels]").forEach(function (el) {
      el.getAttribute("data-live-channels").split(/\s+/).forEach(function (channel) {
        if (channel && !seen[channel]) {
          seen[channel] = true;
          channels.push(channel);
        }
      });
    });
    return channels;
  }

  function url(base, channels, extra) {
    var params = new URLSearchParams();
    channels.forEach(function (channel) { params.append("channel", channel); });
    Object.keys(extra || {}).forEach(function (key) {
      if (extra[key]) params.set(key, extra[key]);
    });
    return base + "?" + params.toString();
  }

  function dispatch(message) {
    document.dispatchEvent(new CustomEvent("live:" + message.event, { detail: message }));
  }

  /* Say `text` to screen readers without moving focus (an aria-live="polite" status region). */
  function announce(text) {
    if (!region) {
      region = document.getElementById("live-announcer");
      if (!region) {
        region = document.createElement("div");
        region.id = "live-announcer";
        region.className = "visually-hidden";
        region.setAttribute("role", "status");
        region.setAttribute("aria-live", "polite");
        document.body.appendChild(region);
      }
    }
    // Clearing first makes screen readers repeat an identical message.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 100);
  }

  /* The header bell: {event: "notification", data: {unread, title}} from /user/<id>. */
  function updateUnread(detail) {
    var data = detail.data || {};
    if (typeof data.unread !== "number") return;
    document.querySelectorAll("[data-live-unread-count]").forEach(function (el) {
      el.textContent = String(data.unread);
      el.hidden = data.unread === 0;
    });
    document.querySelectorAll("[data-unread-label]").forEach(function (el) {
      // The label was translated on the server ("Notifications: 3 unread"); only its number changes.
      var label = el.getAttribute("aria-label");
      if (label) el.setAttribute("aria-label", label.replace(/\d+/, String(data.unread)));
    });
    var bell = document.querySelector("[data-announce-label]");
    if (bell && data.title && detail.event === "notification") {
      announce(bell.getAttribute("data-announce-label") + ": " + data.title);
    }
  }

  /* Poll until it is time to try the stream again (`stream_retry_ms` from the server, with some
   * jitter so that a crowd refused together does not come back together), then stream. */
  var polling = false;
  var baseRetryMs = 60000;
  var refusals = 0;

  function streamRetryDelay() {
    return Math.min(baseRetryMs * Math.pow(2, refusals), 600000);
  }

  function startPolling(channels) {
    var delay = 10000;
    var started = Date.now();
    var jitter = 1 + Math.random() / 2;
    polling = true;
    document.documentElement.setAttribute("data-live", "polling");
    function schedule(ms) { window.setTimeout(poll, ms); }
    function poll() {
      if (window.EventSource && Date.now() >= started + streamRetryDelay() * jitter) {
        polling = false;
        refusals += 1; // Reset when the stream opens; doubles the wait if it is refused again.
        openStream(channels);
        return;
      }
      fetch(url(POLL_URL, channels, { after: lastId }), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (response.status === 403 || response.status === 400) return null; // Not allowed: stop.
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (body) {
          if (!body) { polling = false; return; }
          var first = !lastId;
          lastId = body.last_event_id;
          if (!first) body.events.forEach(dispatch);
          if (body.reset) dispatch({ event: "reset", channel: null, data: {} });
          delay = body.poll_after_ms || 10000;
          if (body.stream_retry_ms) baseRetryMs = body.stream_retry_ms;
          schedule(body.more ? 0 : delay);
        })
        .catch(function () {
          delay = Math.min(delay * 2, 60000);
          schedule(delay);
        });
    }
    poll();
  }

  function openStream(channels) {
    var source = new EventSource(url(STREAM_URL, channels, { last_event_id: lastId }));
    var failures = 0;
    document.documentElement.setAttribute("data-live", "connecting");
    // "stream" once the server has subscribed this page (the response starts after that).
    source.onopen = function () {
      failures = 0;
      refusals = 0;
      document.documentElement.setAttribute("data-live", "stream");
    };
    source.onmessage = function (event) {
      failures = 0;
      if (event.lastEventId) lastId = event.lastEventId;
      var message = JSON.parse(event.data);
      message.id = event.lastEventId;
      dispatch(message);
    };
    source.onerror = function () {
      failures += 1;
      // CLOSED: the server refused (an error status: 503 while Redis is away or this server is
      // full, 429 when too many pages are open from one network); the browser will not retry.
      // Several failed reconnects: a proxy in the way. Either way, poll, and try the stream
      // again later.
      if (source.readyState === EventSource.CLOSED || failures >= 3) {
        source.close();
        if (!polling) startPolling(channels);
      }
    };
  }

  function start() {
    var channels = channelsOnPage();
    if (!channels.length) return;
    // Where the page was rendered: replay from there, so nothing falls between render and connect.
    lastId = document.body.getAttribute("data-live-since") || "";
    if (!window.EventSource || !window.fetch) {
      if (window.fetch) startPolling(channels);
      return;
    }
    openStream(channels);
  }

  /* The header's Messages link: {event: "messages_unread", data: {messages_unread}} from /user/<id>. */
  document.addEventListener("live:messages_unread", function (e) {
    var count = (e.detail.data || {}).messages_unread;
    if (typeof count !== "number") return;
    document.querySelectorAll("[data-live-messages-count]").forEach(function (el) {
      el.textContent = String(count);
      el.hidden = count === 0;
    });
    document.querySelectorAll("[data-messages-label]").forEach(function (el) {
      var label = el.getAttribute("aria-label");
      if (label) el.setAttribute("aria-label", label.replace(/\d+/, String(count)));
    });
  });
  document.addEventListener("live:notification", function (e) { updateUnread(e.detail); });
  document.addEventListener("live:notifications_read", function (e) { updateUnread(e.detail); });

  window.Live = { announce: announce, dispatch: dispatch, channels: channelsOnPage };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
