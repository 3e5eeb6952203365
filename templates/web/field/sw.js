// The field app's service worker (served at /form/sw.js, scope /form/). The server writes the version (a digest
// of the app's files) into CACHE: a change to any file installs a new worker, which precaches the new files.
const VERSION = "__KIEMTRA_FIELD_VERSION__";
const CACHE = `kiemtra-field-${VERSION}`;
const SHELL = "/form/app/";
const STATIC = ["/form/static/app.js", "/form/static/store.js", "/form/static/outbox.js", "/form/static/photos.js",
                "/form/static/app.css", "/form/static/icon-192.png", "/form/static/icon-512.png",
                "/form/static/icon.svg", "/form/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(STATIC.map((url) => new Request(url, { cache: "reload" })));
    try {  // the shell needs the web session: cached when there is one (else at the next visit online)
      const shell = await fetch(SHELL, { cache: "reload", credentials: "same-origin", redirect: "manual" });
      if (shell.ok && shell.type === "basic") await cache.put(SHELL, shell);
    } catch (_) { /* offline while installing: the next navigation online caches it */ }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    const old = names.filter((n) => n.startsWith("kiemtra-field-") && n !== CACHE);
    const current = await caches.open(CACHE);
    if (!(await current.match(SHELL))) {  // keep the shell of the old version until the next one is fetched
      for (const name of old) {
        const shell = await (await caches.open(name)).match(SHELL);
        if (shell) { await current.put(SHELL, shell); break; }
      }
    }
    await Promise.all(old.map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

async function shellNetworkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic" && !response.redirected) {
      await cache.put(SHELL, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(SHELL);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== "GET") return;  // writes: always the network
  if (url.pathname.startsWith("/form/api/")) return;  // the app keeps the last answer in IndexedDB itself
  if (url.pathname === SHELL && request.mode === "navigate") {
    event.respondWith(shellNetworkFirst(request));
  } else if (STATIC.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});
