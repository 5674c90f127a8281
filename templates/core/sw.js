// The service worker of the forum (served at /sw.js by core.views.service_worker, registered by
// static/js/composer.js). One job: a page with a composer reloads offline, with the text typed
// in it (composer.js restores that from this device). Network first, always; the copy kept is
// only used when the network fails. Signing out empties the copies.
"use strict";

var CACHE = "mplf-offline-v1";
var PAGES = /^\/(t\/|new-topic$|posts\/\d+\/edit$)/;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function keeps(request, url) {
  if (url.origin !== self.location.origin || request.method !== "GET") return false;
  if (request.mode === "navigate") return PAGES.test(url.pathname);
  return url.pathname.indexOf("/static/") === 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method === "POST" && url.pathname === "/accounts/logout/") {
    event.waitUntil(caches.delete(CACHE));
    return;
  }
  if (!keeps(request, url)) return;
  event.respondWith(
    fetch(request)
      .then(function (response) {
        if (response.ok && response.type === "basic") {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      })
      .catch(function () {
        return caches.match(request, { ignoreVary: true }).then(function (kept) {
          return kept || Response.error();
        });
      })
  );
});
