/* Photo uploader of the driver's request form (/s/<slug>/photo/).
 *
 * Drivers send photos from phones, often on a weak connection. One big multipart post
 * that dies at 90 % loses everything, so each photo is shrunk in the browser and
 * uploaded on its own while the driver fills in the form (js/upload-queue.js: in order,
 * two at a time, retried, held while offline); the server keeps them under the form
 * token and attaches them when the form arrives. Without this script (or without
 * fetch/XHR/FormData) the same form posts the files itself. */
(function () {
  "use strict";
  var form = document.getElementById("photo-form");
  var input = document.getElementById("id_photos");
  var list = document.getElementById("uploaded-photos");
  if (!form || !input || !list || !form.dataset.uploadUrl || !window.fetch ||
      !window.XMLHttpRequest || !window.FormData || !window.Promise || !window.URL ||
      !window.UploadQueue || !window.gettext) return;

  var UPLOAD_URL = form.dataset.uploadUrl;
  var MAX_PHOTOS = +form.dataset.maxPhotos || 20;
  var MAX_MB = +form.dataset.maxMb || 20;
  // States that still need the network; the form waits for them before it is sent.
  var PENDING = { queued: 1, shrinking: 1, ready: 1, uploading: 1, retry: 1, offline: 1, deleting: 1 };

  var button = document.getElementById("send-button");
  var buttonText = button && button.textContent;
  var sendNote = document.getElementById("send-status") || after(button || list);
  var pickNote = after(list);
  var items = [];
  var shrinking = false;
  var submitWanted = false;
  var sending = false;
  var queue = UploadQueue.create({
    url: UPLOAD_URL,
    items: items,
    set: set,
    body: function (it) {
      var fd = withToken(new FormData());
      fd.append("client_id", it.id);
      fd.append("file", it.blob, it.upName);
      return fd;
    },
    sent: function (it) { it.sent = true; },
    answer: answer
  });

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
    if (n) sendNote.textContent = interpolate(gettext("Дождитесь загрузки фото: осталось %(n)s"), { n: n }, true);
    else send();
  }

  function view(it, li) {
    it.li = li;
    li.className = "pu-item";
    li.dataset.state = it.state;
    if (it.id) {
      var rm = li.appendChild(el("button", "btn btn-sm btn-outline-secondary", gettext("Убрать")));
      rm.type = "button";
      rm.setAttribute("aria-label", interpolate(gettext("Убрать фото %(name)s"), { name: it.name }, true));
      rm.onclick = function () { remove(it); };
    }
    items.push(it);
  }

  function add(file) {
    var li = el("li");
    var it = { id: UploadQueue.uuid4(), name: file.name, file: file, state: "queued", tries: 0 };
    var body = el("div", "pu-body");
    var aria = {
      role: "progressbar",
      "aria-label": interpolate(gettext("Загрузка %(name)s"), { name: file.name }, true),
      "aria-valuemin": 0,
      "aria-valuemax": 100
    };
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
    set(it, "queued", queue.waiting(), 0);
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
    set(it, "shrinking", gettext("Сжимаю…"));
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
            set(it, "failed", interpolate(gettext("Файл «%(name)s» больше %(mb)s МБ: выберите другое фото"),
              { name: it.name, mb: MAX_MB }, true), 100);
          } else {
            set(it, "ready", queue.waiting());
          }
        }
        shrinkNext();
        queue.pump();
      });
  }

  function answer(it, s, j) {
    if (it.state === "deleting") {
      if (s >= 400 && s < 500) detach(it);
      else drop(it);
      return;
    }
    if (it.state === "gone") return;
    if (s >= 200 && s < 300 && j && j.id) {
      it.sent = true;
      var mb = (it.blob.size / 1048576).toFixed(1).replace(".", get_format("DECIMAL_SEPARATOR"));
      set(it, "done", interpolate(gettext("Загружено · %(mb)s МБ"), { mb: mb }, true), 100);
    } else if (s === 400 || s === 403 || s === 413) {
      // A refusal (not a photo, too big, form expired): retrying cannot help.
      it.sent = false;
      set(it, "failed", (j && j.error) ||
        interpolate(gettext("Фото «%(name)s» не принято"), { name: it.name }, true), 100);
    } else {
      return queue.retry(it);
    }
    it.blob = null;
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
        it.timer = setTimeout(drop, UploadQueue.backoff(it) * 1000, it);
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
      button.textContent = gettext("Отправляю…");
    }
    sendNote.textContent = failed
      ? interpolate(gettext("Фото с ошибкой не войдут в заявку: %(n)s"), { n: failed }, true)
      : "";
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
      ? interpolate(gettext("Можно приложить не больше %(max)s фото: %(left)s не добавлено. " +
          "Уберите лишние, чтобы добавить другие."), { max: MAX_PHOTOS, left: files.length - room }, true)
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
