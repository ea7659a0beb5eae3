/* Upload queue shared by the driver's photo form (js/photo-uploader.js) and the shot list
 * of a vehicle intake (intake/capture.js).
 *
 * Both send one photo per request from a phone or a tablet, often on a weak connection:
 * at most `parallel` uploads at a time, in the order the items were added; an upload that
 * stalls is aborted; a failed one is retried after a growing pause (1, 2, 4 … 30 s) shown
 * as a countdown; nothing is sent while the device is offline, and everything waiting goes
 * when the network is back.
 *
 * The page keeps its list of items (objects with at least `state` and `tries`), draws
 * them, and says what an answer of the server means. The queue moves an item only between
 * its own states: `ready` (waiting for a free slot; the page may name it otherwise),
 * "uploading", "retry" and "offline". Load it after the JavaScript catalogue (gettext)
 * and before the page's script. */
(function () {
  "use strict";

  var STALL_MS = 30000;
  var MAX_DELAY_S = 30;

  function uuid4() {
    var c = window.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    // randomUUID exists only in secure contexts (a shop on plain http inside its network).
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.from(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // Seconds to wait before the next try of `it`: 1, 2, 4 … up to 30.
  function backoff(it) {
    return Math.min(MAX_DELAY_S, Math.pow(2, it.tries++));
  }

  function online() {
    return navigator.onLine !== false;
  }

  var texts = {
    waiting: function () { return gettext("В очереди…"); },
    offline: function () { return gettext("Нет связи — отправлю, когда появится сеть"); },
    progress: function (percent) {
      return interpolate(gettext("Отправляю %(percent)s %"), { percent: percent }, true);
    },
    retry: function (seconds) {
      return interpolate(gettext("Повторяю через %(seconds)s с…"), { seconds: seconds }, true);
    }
  };

  /* options:
   *   url       where each upload is posted
   *   items     the page's array of items, in the order they are to be sent
   *   set       function (item, state, text, percent): the page shows the item's state
   *             (percent is left out where it does not change)
   *   body      function (item): the FormData to post for the item
   *   answer    function (item, status, json, xhr): called when an upload has ended, with
   *             the parsed JSON answer or null; the page stores, refuses or calls retry()
   *   sent      optional function (item): the body is out, the answer not yet in
   *   headers   optional function (): request headers to add
   *   ready     the page's name of the state "waiting for a free slot" (default "ready")
   *   parallel  uploads at a time (default 2)
   * Returns { pump, network, retry, waiting }. */
  function create(options) {
    var items = options.items;
    var READY = options.ready || "ready";
    var PARALLEL = options.parallel || 2;
    var active = 0;

    // In the order added: the first photos (the damage itself, the first angles of the
    // walk round the car) arrive first.
    function pump() {
      if (!online()) return network();
      for (var i = 0; i < items.length && active < PARALLEL; i++) {
        if (items[i].state === READY) upload(items[i]);
      }
    }

    // Online or offline: everything waiting is put back in line, or told to wait for the
    // network. A countdown in progress is cut short, its pause counted afresh.
    function network() {
      var on = online();
      items.forEach(function (it) {
        if (it.state === READY || it.state === "retry" || it.state === "offline") {
          clearTimeout(it.timer);
          it.tries = 0;
          options.set(it, on ? READY : "offline", on ? texts.waiting() : texts.offline());
        }
      });
      if (on) pump();
    }

    function upload(it) {
      var x = new XMLHttpRequest();
      var headers = options.headers ? options.headers() : {};
      var stall;
      it.xhr = x;
      active++;
      // A stalled mobile connection can hang for minutes without an error.
      function alive() {
        clearTimeout(stall);
        stall = setTimeout(function () { x.abort(); }, STALL_MS);
      }
      x.upload.onprogress = function (e) {
        alive();
        if (e.lengthComputable && it.state === "uploading") {
          var p = Math.floor((e.loaded / e.total) * 100);
          options.set(it, "uploading", texts.progress(p), p);
        }
      };
      // Once the body is out the server may keep the photo even if its answer is lost.
      x.upload.onload = function () { if (options.sent) options.sent(it); };
      x.onprogress = alive;
      x.onloadend = function () {
        var json = null;
        clearTimeout(stall);
        active--;
        it.xhr = null;
        try { json = JSON.parse(x.responseText); } catch (e) { /* a proxy's or a login page */ }
        options.answer(it, x.status, json, x);
        pump();
      };
      x.open("POST", options.url);
      Object.keys(headers).forEach(function (name) { x.setRequestHeader(name, headers[name]); });
      alive();
      x.send(options.body(it));
      options.set(it, "uploading", texts.progress(0), 0);
    }

    // A transient failure (no answer, a server error, a timeout): try again after a pause.
    function retry(it) {
      if (!online()) return options.set(it, "offline", texts.offline());
      var from = it.state;
      var left = backoff(it);
      clearTimeout(it.timer);
      (function tick() {
        // The page has moved the item on meanwhile (removed it, stored it): stop counting.
        if (it.state !== from && it.state !== "retry") return;
        if (left <= 0) {
          options.set(it, READY, texts.waiting());
          return pump();
        }
        options.set(it, "retry", texts.retry(left--));
        it.timer = setTimeout(tick, 1000);
      })();
    }

    window.addEventListener("online", network);
    window.addEventListener("offline", network);
    return { pump: pump, network: network, retry: retry, waiting: texts.waiting };
  }

  window.UploadQueue = { create: create, uuid4: uuid4, backoff: backoff };
})();
