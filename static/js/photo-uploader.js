/* Photo uploader of the driver's request form (/s/<slug>/photo/).
 *
 * Drivers send photos from phones, often on a weak connection. One big multipart post
 * that dies at 90 % loses everything, so each photo is shrunk in the browser and
 * uploaded on its own while the driver fills in the form; the server keeps them under
 * the form token and attaches them when the form arrives. Without this script (or
 * without fetch/XHR/FormData) the same form posts the files itself. */
(function () {
  "use strict";
  var form = document.getElementById("photo-form");
  var input = document.getElementById("id_photos");
  var list = document.getElementById("uploaded-photos");
  if (!form || !input || !list || !form.dataset.uploadUrl || !window.fetch ||
      !window.XMLHttpRequest || !window.FormData || !window.Promise || !window.URL) return;

  var UPLOAD_URL = form.dataset.uploadUrl;
  var MAX_PHOTOS = +form.dataset.maxPhotos || 20;
  var MAX_MB = +form.dataset.maxMb || 20;
  var PARALLEL = 2;
  var STALL_MS = 30000;
  // States that still need the network; the form waits for them before it is sent.
  var PENDING = { queued: 1, shrinking: 1, ready: 1, uploading: 1, retry: 1, offline: 1, deleting: 1 };
  var T_WAIT = "Жду очереди…";
  var T_OFFLINE = "Нет связи — продолжу, когда появится сеть";

  var button = document.getElementById("send-button");
  var buttonText = button && button.textContent;
  var sendNote = document.getElementById("send-status") || after(button || list);
  var pickNote = after(list);
  var items = [];
  var active = 0;
  var shrinking = false;
  var submitWanted = false;
  var sending = false;

  form.classList.add("pu-on");
  // Each item announces its own state; a live list would read every item again.
  list.removeAttribute("aria-live");
  pickNote.classList.add("text-danger");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    e.className = cls || "";
    e.textContent = text || "";
    return e;
  }

  function after(node) {
    var e = el("div", "small mt-1");
    e.setAttribute("aria-live", "polite");
    node.parentNode.insertBefore(e, node.nextSibling);
    return e;
  }

  function uuid4() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // randomUUID exists only in secure contexts (a shop trying it over plain http).
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.from(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  function withToken(fd) {
    fd.append("form_token", form.elements.form_token.value);
    return fd;
  }

  function count(test) {
    return items.filter(test).length;
  }

  function pending() {
    return count(function (it) { return PENDING[it.state]; });
  }

  function done() {
    return count(function (it) { return it.state === "done"; });
  }

  function changed() {
    var n = pending();
    form.dataset.uploadsPending = n;
    if (!submitWanted) return;
    if (n) sendNote.textContent = "Дождитесь загрузки фото: осталось " + n;
    else send();
  }

  function view(it, li) {
    it.li = li;
    li.className = "pu-item";
    li.dataset.state = it.state;
    if (it.id) {
      var rm = li.appendChild(el("button", "btn btn-sm btn-outline-secondary", "Убрать"));
      rm.type = "button";
      rm.setAttribute("aria-label", "Убрать фото " + it.name);
      rm.onclick = function () { remove(it); };
    }
    items.push(it);
  }

  function add(file) {
    var li = el("li");
    var it = { id: uuid4(), name: file.name, file: file, state: "queued", tries: 0 };
    var body = el("div", "pu-body");
    var aria = { role: "progressbar", "aria-label": "Загрузка " + file.name, "aria-valuemin": 0, "aria-valuemax": 100 };
    it.img = li.appendChild(el("img", "pu-thumb"));
    it.img.alt = "";
    li.appendChild(body).appendChild(el("div", "pu-name", file.name));
    it.bar = body.appendChild(el("div", "progress"));
    for (var k in aria) it.bar.setAttribute(k, aria[k]);
    it.fill = it.bar.appendChild(el("div", "progress-bar"));
    it.text = body.appendChild(el("div", "pu-state"));
    it.text.setAttribute("aria-live", "polite");
    list.appendChild(li);
    view(it, li);
    set(it, "queued", T_WAIT, 0);
  }

  function set(it, state, text, pct) {
    var failed = state === "failed";
    it.state = it.li.dataset.state = state;
    it.text.textContent = text;
    it.text.classList.toggle("text-danger", failed);
    if (pct != null) {
      it.fill.style.width = pct + "%";
      it.bar.setAttribute("aria-valuenow", pct);
    }
    it.fill.classList.toggle("bg-success", state === "done");
    it.fill.classList.toggle("bg-danger", failed);
    changed();
  }

  function decode(file) {
    return Promise.resolve()
      .then(function () { return createImageBitmap(file, { imageOrientation: "from-image" }); })
      .catch(function () {
        // Older Safari has no createImageBitmap options; an <img> applies EXIF itself.
        return new Promise(function (ok, fail) {
          var img = new Image();
          var url = URL.createObjectURL(file);
          img.onload = function () { URL.revokeObjectURL(url); ok(img); };
          img.onerror = function () { URL.revokeObjectURL(url); fail(); };
          img.src = url;
        });
      });
  }

  function jpeg(src, w, h, side, quality) {
    var s = Math.min(1, side / Math.max(w, h));
    var c = el("canvas");
    var g = c.getContext("2d");
    c.width = Math.max(1, Math.round(w * s));
    c.height = Math.max(1, Math.round(h * s));
    g.imageSmoothingQuality = "high";
    g.drawImage(src, 0, 0, c.width, c.height);
    return new Promise(function (ok) {
      c.toBlob(function (b) {
        c.width = c.height = 0; // iOS holds canvas memory until told otherwise
        ok(b);
      }, "image/jpeg", quality);
    });
  }

  // One photo at a time: a dozen decoded 12-megapixel photos would exhaust a phone.
  function shrinkNext() {
    var it = items.find(function (i) { return i.state === "queued"; });
    if (shrinking || !it) return;
    var file = it.file;
    shrinking = true;
    it.blob = file;
    it.upName = file.name;
    set(it, "shrinking", "Сжимаю…");
    decode(file)
      .then(function (src) {
        var w = src.naturalWidth || src.width;
        var h = src.naturalHeight || src.height;
        if (!w || !h) throw src;
        return jpeg(src, w, h, 160, 0.7)
          .then(function (thumb) {
            if (thumb) it.img.src = it.thumbUrl = URL.createObjectURL(thumb);
            return jpeg(src, w, h, 2048, 0.85);
          })
          .then(function (b) {
            if (src.close) src.close();
            if (b && b.size < file.size) {
              it.blob = b;
              it.upName = file.name.replace(/\.[^.]*$/, "") + ".jpg";
            }
          });
      })
      // Not decodable here (HEIC on Chrome): the server decodes the original itself.
      .catch(function () {})
      .then(function () {
        it.file = null;
        shrinking = false;
        if (it.state === "shrinking") {
          if (it.blob.size > MAX_MB * 1048576) {
            set(it, "failed", "Файл «" + it.name + "» больше " + MAX_MB + " МБ: выберите другое фото", 100);
          } else {
            set(it, "ready", T_WAIT);
          }
        }
        shrinkNext();
        pump();
      });
  }

  // In the order picked, so the first photos (usually the damage itself) arrive first.
  function pump() {
    if (!navigator.onLine) return network();
    items.forEach(function (it) {
      if (it.state === "ready" && active < PARALLEL) upload(it);
    });
  }

  function network() {
    var on = navigator.onLine;
    items.forEach(function (it) {
      if (it.state === "ready" || it.state === "retry" || it.state === "offline") {
        clearTimeout(it.timer);
        it.tries = 0;
        set(it, on ? "ready" : "offline", on ? T_WAIT : T_OFFLINE);
      }
    });
    if (on) pump();
  }

  function upload(it) {
    var x = (it.xhr = new XMLHttpRequest());
    var fd = withToken(new FormData());
    var stall;
    fd.append("client_id", it.id);
    fd.append("file", it.blob, it.upName);
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
        set(it, "uploading", "Загружаю " + p + " %", p);
      }
    };
    // Once the body is out the server may keep the photo even if its answer is lost.
    x.upload.onload = function () { it.sent = true; };
    x.onprogress = alive;
    x.onloadend = function () {
      var s = x.status;
      var j = {};
      clearTimeout(stall);
      active--;
      it.xhr = null;
      try { j = JSON.parse(x.responseText); } catch (e) { /* a proxy's or portal's page */ }
      if (it.state === "deleting") {
        if (s >= 400 && s < 500) detach(it);
        else drop(it);
      } else if (it.state !== "gone") {
        if (s >= 200 && s < 300 && j.id) {
          it.sent = true;
          set(it, "done", "Загружено · " + (it.blob.size / 1048576).toFixed(1).replace(".", ",") + " МБ", 100);
        } else if (s === 400 || s === 403 || s === 413) {
          // A refusal (not a photo, too big, form expired): retrying cannot help.
          it.sent = false;
          set(it, "failed", j.error || "Фото «" + it.name + "» не принято", 100);
        } else {
          return retry(it);
        }
        it.blob = null;
      }
      pump();
    };
    x.open("POST", UPLOAD_URL);
    alive();
    x.send(fd);
    set(it, "uploading", "Загружаю 0 %", 0);
  }

  function delay(it) {
    return Math.min(30, Math.pow(2, it.tries++));
  }

  function retry(it) {
    var left = delay(it);
    if (!navigator.onLine) return set(it, "offline", T_OFFLINE);
    (function tick() {
      if (!left) return set(it, "ready", T_WAIT), pump();
      set(it, "retry", "Повторяю через " + left-- + " с…");
      it.timer = setTimeout(tick, 1000);
    })();
    pump();
  }

  function remove(it) {
    var x = it.xhr;
    clearTimeout(it.timer);
    it.li.hidden = true;
    if (it.text && !it.sent) {
      detach(it);
      if (x) x.abort();
      return;
    }
    it.state = "deleting";
    changed();
    // An upload whose body already went out is deleted once its answer arrives.
    if (!x) drop(it);
  }

  function drop(it) {
    fetch(UPLOAD_URL + it.id + "/delete/", { method: "POST", body: withToken(new FormData()) })
      .then(function (r) {
        if (r.status >= 500) throw r;
        detach(it);
      })
      .catch(function () {
        it.timer = setTimeout(drop, delay(it) * 1000, it);
      });
  }

  function detach(it) {
    it.state = "gone";
    it.li.remove();
    if (it.thumbUrl) URL.revokeObjectURL(it.thumbUrl);
    items.splice(items.indexOf(it), 1);
    changed();
  }

  function send() {
    var failed = items.length - done();
    sending = true;
    submitWanted = false;
    // The photos are on the server already; the form must not carry them again.
    input.disabled = true;
    if (button) {
      button.disabled = true;
      button.textContent = "Отправляю…";
    }
    sendNote.textContent = failed ? "Фото с ошибкой не войдут в заявку: " + failed : "";
    form.submit();
  }

  [].forEach.call(list.children, function (li) {
    view({ id: li.dataset.clientId, name: li.textContent.split(" · ")[0], state: "done" }, li);
  });

  input.addEventListener("change", function () {
    var files = Array.from(input.files || []);
    var room = Math.max(0, MAX_PHOTOS - count(function (it) {
      return it.state !== "failed" && it.state !== "deleting";
    }));
    // Cleared so the same photo can be picked again and a plain post cannot resend it.
    input.value = "";
    pickNote.textContent = files.length > room
      ? "Можно приложить не больше " + MAX_PHOTOS + " фото: " + (files.length - room) +
        " не добавлено. Уберите лишние, чтобы добавить другие."
      : "";
    files.slice(0, room).forEach(add);
    shrinkNext();
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (sending) return;
    submitWanted = true;
    changed();
  });

  window.addEventListener("online", network);
  window.addEventListener("offline", network);
  // Back from the next page (bfcache): the form must be usable again.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    sending = input.disabled = false;
    if (button) {
      button.disabled = false;
      button.textContent = buttonText;
    }
  });

  window.photoUploader = { pending: pending, done: done };
  changed();
})();
