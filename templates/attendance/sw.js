// The register's service worker (scope /presenze: the list of registers and every register): the register opens with no connection.
// - Assets (Bootstrap Italia, the app's CSS and JS, the QR decoder) are kept at install, for this version.
// - Register pages are fetched from the network when it answers (a copy is kept) and from the copy when it does
//   not; the list of registers asks for the pages of today's and the next meetings to be kept in advance.
// - Marks are not kept here: register.js queues them in IndexedDB and sends them when the connection returns.
"use strict";
var VERSION = {{ version|tojson }};
var STATIC_CACHE = "tavoli-static-" + VERSION;
var PAGES_CACHE = "tavoli-register-pages";
var ASSETS = {{ assets|tojson }};
var NETWORK_TIMEOUT_MS = 4000;
var OFFLINE_PAGE = {{ offline_page|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) { return cache.addAll(ASSETS); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("tavoli-static-") === 0 && name !== STATIC_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function isPage(url) {
  return url.origin === self.location.origin
    && (url.pathname === "/presenze" || url.pathname.indexOf("/presenze/") === 0)
    && !/\.(js|webmanifest|pdf)$/.test(url.pathname);
}

function isAsset(url) {
  return url.origin === self.location.origin
    && (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/assets/") === 0);
}

// The network, unless it takes longer than NETWORK_TIMEOUT_MS (a phone on one bar of signal).
function fromNetwork(request) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, NETWORK_TIMEOUT_MS);
    fetch(request).then(function (response) { clearTimeout(timer); resolve(response); },
      function (error) { clearTimeout(timer); reject(error); });
  });
}

// Copies being fetched or written, each a promise that settles when its copy is in place (or given up): a page
// read from the copies while one of them is replaced can miss it in Chromium, so a miss waits for them and looks
// again, rather than open the register as "not downloaded".
var keeping = new Set();
// Copies are written one at a time, each after the one before (the date comparison below reads, then writes).
var writing = Promise.resolve();
var SETTLE_MS = 2000;

function tracked(promise) {
  keeping.add(promise);
  var done = function () { keeping.delete(promise); };
  promise.then(done, done);
  return promise;
}

// Keep `response` for `url` unless the copy kept already is newer (two fetches of one page may end in either
// order: the later page wins, not the later answer). The page is read to its end before it replaces the copy, so
// a connection lost halfway through leaves the old copy in place.
function putIfNewer(cache, url, response) {
  return response.arrayBuffer().then(function (body) {
    var whole = new Response(body, { status: response.status, statusText: response.statusText,
      headers: response.headers });
    var step = writing.then(function () {
      return cache.match(url).then(function (old) {
        var oldDate = old ? Date.parse(old.headers.get("Date") || "") || 0 : 0;
        var newDate = Date.parse(whole.headers.get("Date") || "") || Date.now();
        if (old && oldDate > newDate) { return null; }
        return cache.put(url, whole);
      });
    });
    writing = step.catch(function () { return null; });
    return step;
  }).catch(function () { return null; });
}

// Resolves once no copy is being kept, or after `ms` (a fetch on a bad line may hang much longer).
function settled(ms) {
  return new Promise(function (resolve) {
    var timer = setTimeout(resolve, ms);
    (function wait() {
      if (!keeping.size) { clearTimeout(timer); resolve(); return; }
      Promise.allSettled(Array.from(keeping)).then(wait);
    })();
  });
}

function keptPage(url) {
  var look = function () {
    return caches.open(PAGES_CACHE).then(function (cache) { return cache.match(url); });
  };
  return look().then(function (hit) { return hit || settled(SETTLE_MS).then(look); });
}

// A page worth keeping: the register itself, not a sign-in page the session's end redirected to.
function keep(request, response) {
  if (!response || !response.ok || response.redirected || response.type !== "basic") { return; }
  var copy = response.clone();
  tracked(caches.open(PAGES_CACHE).then(function (cache) { return putIfNewer(cache, request.url, copy); }));
}

function offlineResponse() {
  return new Response(OFFLINE_PAGE, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (isAsset(url)) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (!isPage(url)) { return; }
  event.respondWith(fromNetwork(request).then(function (response) {
    keep(request, response);
    return response;
  }, function () {
    return keptPage(request.url).then(function (hit) { return hit || offlineResponse(); });
  }));
});

// From the pages: keep these register pages now (today's and the next meetings), or forget every page kept
// (signing out).
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(data.urls.map(function (path) {
        var url = new URL(path, self.location.origin);
        if (!isPage(url)) { return null; }
        return tracked(fetch(url.href, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) { return putIfNewer(cache, url.href, response); }
          return null;
        }).catch(function () { return null; }));
      }));
    }).then(function () {
      if (event.source) { event.source.postMessage({ type: "kept", count: data.urls.length }); }
    }));
  } else if (data.type === "forget") {
    event.waitUntil(caches.delete(PAGES_CACHE));
  }
});
