/* Shot list of a vehicle intake (/staff/intake/<id>/), enhanced for a phone or tablet.
 *
 * The advisor walks round the car and shoots by the list while the customer watches. Each
 * shot is uploaded in the background the moment it is taken, so nobody waits for the
 * network; a shot waits in IndexedDB until the server has it, so a dead spot in the
 * workshop or a reload of the tablet never loses a photo the customer saw being taken. A
 * shot keeps the client id it got when it was taken: however often a retry sends it, the
 * server stores it once (js/upload-queue.js sends them: in order, two at a time, retried,
 * held while offline). The server checks the quality and its verdict is shown on the
 * thumbnail with a retake button. Without this script the row forms post the file
 * themselves. */
(function () {
  "use strict";
  var list = document.getElementById("shot-list");
  if (!list) return;
  var api = { pending: function () { return 0; } };
  window.intakeCapture = api;
  list.dataset.pending = "0";
  if (list.dataset.sealed === "1" || !list.dataset.uploadUrl || !window.XMLHttpRequest ||
      !window.FormData || !window.Promise || !window.URL || !window.Blob ||
      !window.UploadQueue || !window.gettext) return;

  var UPLOAD_URL = list.dataset.uploadUrl;
  // The same bars as the server's check (intake/quality.py): a warning here saves the
  // advisor a round trip, the server's verdict is what counts.
  var MIN_LONG = 1280;
  var MIN_SHORT = 720;
  var MIN_LUMA = 40;
  var DB_NAME = "intake-capture";
  var STORE = "shots";
  // States of a shot that still needs the network; the rest are final.
  var PENDING = { queued: 1, uploading: 1, checking: 1, retry: 1, offline: 1 };

  var rows = [];
  var items = [];
  var queue = UploadQueue.create({
    url: UPLOAD_URL,
    items: items,
    ready: "queued",
    set: set,
    body: function (it) {
      var fd = new FormData();
      fd.append("spec", it.row.spec);
      fd.append("client_id", it.id);
      if (it.part) fd.append("damage_part", it.part);
      fd.append("file", it.blob, it.name);
      return fd;
    },
    headers: function () { return { Accept: "application/json", "X-CSRFToken": csrf() }; },
    sent: function (it) {
      if (it.state === "uploading") set(it, "checking", gettext("Проверяю качество…"), 100);
    },
    answer: answer
  });
  var volatile = false; // a shot could not be kept in IndexedDB: a reload would lose it
  var store = openStore();
  var queueBox = el("div", "alert alert-info py-2 small shot-queue");
  var toSign = document.getElementById("to-sign");
  var signHint = null;
  var camera = null;

  queueBox.id = "shot-queue";
  queueBox.hidden = true;
  queueBox.setAttribute("role", "status");
  queueBox.dataset.count = "0";
  var heading = list.previousElementSibling;
  list.parentNode.insertBefore(queueBox, heading && /^H\d$/.test(heading.tagName) ? heading : list);
  if (toSign) {
    signHint = el("div", "small text-body-secondary mt-1");
    signHint.id = "to-sign-hint";
    signHint.hidden = true;
    toSign.parentNode.appendChild(signHint);
    toSign.addEventListener("click", function (e) {
      if (pending()) e.preventDefault();
    });
  }
  addStyle();

  // --- small helpers -------------------------------------------------------------------

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function button(cls, text) {
    var b = el("button", cls, text);
    b.type = "button";
    return b;
  }

  // Only when it changes: progress events come many times a second and a live region
  // would announce every rewrite.
  function text(node, value) {
    if (node.textContent !== value) node.textContent = value;
  }

  function csrf() {
    // The cookie first: it is the current one if the advisor logged in again in another tab.
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function shots(n) {
    return interpolate(ngettext("%(n)s кадр", "%(n)s кадра", n), { n: n }, true);
  }

  // --- the queue in IndexedDB (memory only where there is none) ----------------------

  function openStore() {
    var db = new Promise(function (ok) {
      var req;
      try { req = window.indexedDB.open(DB_NAME, 1); } catch (e) { return ok(null); }
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
      req.onsuccess = function () { ok(req.result); };
      req.onerror = req.onblocked = function () { ok(null); };
    });
    function run(mode, action) {
      return db.then(function (d) {
        if (!d) throw new Error("no IndexedDB");
        return new Promise(function (ok, fail) {
          var t = d.transaction(STORE, mode);
          var req = action(t.objectStore(STORE));
          t.oncomplete = function () { ok(req.result); };
          t.onerror = t.onabort = function () { fail(t.error); };
        });
      });
    }
    return {
      put: function (rec) {
        return run("readwrite", function (s) { return s.put(rec); })
          .catch(function () {
            // Older Safari cannot keep a Blob in IndexedDB: keep its bytes instead.
            return new Response(rec.blob).arrayBuffer().then(function (bytes) {
              var copy = Object.assign({}, rec, { blob: null, bytes: bytes, type: rec.blob.type });
              return run("readwrite", function (s) { return s.put(copy); });
            });
          })
          .then(function () { return true; }, function () { return false; });
      },
      del: function (id) {
        return run("readwrite", function (s) { return s.delete(id); }).catch(function () {});
      },
      all: function () {
        return run("readonly", function (s) { return s.getAll(); })
          .then(function (recs) {
            return recs.filter(function (r) { return r.url === UPLOAD_URL; }).map(function (r) {
              if (!r.blob && r.bytes) r.blob = new Blob([r.bytes], { type: r.type || "image/jpeg" });
              return r;
            });
          })
          .catch(function () { return []; });
      }
    };
  }

  function keep(it) {
    it.saved = store.put({
      id: it.id, url: UPLOAD_URL, spec: it.row.spec, part: it.part, name: it.name,
      blob: it.blob, taken: it.taken
    }).then(function (ok) {
      if (!ok) volatile = true;
      return ok;
    });
  }

  function forget(it) {
    // After the put, whichever finishes first: a deleted record must not come back.
    (it.saved || Promise.resolve()).then(function () { store.del(it.id); });
  }

  // --- rows ----------------------------------------------------------------------------

  function setupRow(li) {
    var min = Math.max(+li.dataset.min || 0, 1);
    var row = {
      el: li,
      spec: li.dataset.spec,
      min: min,
      damage: li.dataset.damage === "1",
      guide: li.dataset.guide || "",
      title: (li.querySelector("strong") || li).textContent.trim(),
      hint: (li.querySelector(".text-body-secondary") || { textContent: "" }).textContent.trim(),
      state: li.querySelector(".shot-state"),
      thumbs: li.querySelector(".shot-thumbs"),
      form: li.querySelector("form.shot-form"),
      input: li.querySelector("input.shot-input"),
      select: li.querySelector("select[name=damage_part]"),
      note: null
    };
    // Done on the server without enough accepted shots: skipped with a reason.
    row.skipped = li.classList.contains("shot-done") && accepted(row) < min;
    row.skipText = row.state ? row.state.textContent : "";
    rows.push(row);
    if (!row.form || !row.input) return;
    row.note = el("div", "small mt-1 shot-note");
    row.note.setAttribute("aria-live", "polite");
    row.form.parentNode.insertBefore(row.note, row.form.nextSibling);
    row.form.addEventListener("submit", function (e) { e.preventDefault(); });
    row.input.addEventListener("change", function () {
      var files = Array.from(row.input.files || []);
      // Cleared so the same camera button can be used again at once.
      row.input.value = "";
      files.forEach(function (file) { take(row, file, file.name); });
    });
    if (row.select) row.select.addEventListener("change", function () { say(row, ""); });
    if (canGuide()) {
      var cam = button("btn btn-outline-primary btn-sm shot-camera", gettext("Камера с подсказкой"));
      cam.addEventListener("click", function () { openCamera(row, cam); });
      var label = row.input.closest("label");
      row.form.insertBefore(cam, label ? label.nextSibling : null);
    }
    [].forEach.call(row.thumbs.querySelectorAll(".shot-thumb.shot-rejected"), function (fig) {
      fig.appendChild(retakeButton(row));
    });
  }

  function accepted(row) {
    return row.thumbs ? row.thumbs.querySelectorAll(".shot-thumb[data-shot-id]:not(.shot-rejected)").length : 0;
  }

  function rowPending(row) {
    return items.filter(function (it) { return it.row === row && PENDING[it.state]; }).length;
  }

  function sending(row) {
    return items.some(function (it) {
      return it.row === row && (it.state === "uploading" || it.state === "checking");
    });
  }

  // «Осталось снять»: the required rows not done yet, as the server lists them.
  function refreshMissing() {
    var banner = document.getElementById("missing-shots");
    if (!banner) return;
    var names = rows.filter(function (r) {
      return r.el.dataset.required === "1" && !r.el.classList.contains("shot-done");
    }).map(function (r) { return r.el.dataset.name; });
    text(banner.querySelector(".missing-names"), names.join(", "));
    banner.hidden = !names.length;
  }

  function refreshRow(row) {
    var n = accepted(row);
    var waiting = rowPending(row);
    row.el.classList.toggle("shot-done", n >= row.min || row.skipped);
    if (!row.state) return;
    var label = n ? interpolate(gettext("снято: %(n)s"), { n: n }, true)
      : row.skipped ? row.skipText : gettext("не снят");
    if (waiting) {
      label += " · " + interpolate(sending(row) ? gettext("отправляю: %(n)s") : gettext("в очереди: %(n)s"),
        { n: waiting }, true);
    }
    text(row.state, label);
  }

  function say(row, text, danger) {
    if (!row.note) return;
    row.note.textContent = text;
    row.note.classList.toggle("text-danger", !!danger);
  }

  function retakeButton(row) {
    var b = button("btn btn-outline-danger btn-sm mt-1 shot-retake", gettext("Переснять"));
    b.addEventListener("click", function () { row.input.click(); });
    return b;
  }

  // --- shots ---------------------------------------------------------------------------

  function take(row, blob, name, restored) {
    var it = {
      id: restored ? restored.id : UploadQueue.uuid4(),
      row: row,
      part: restored ? restored.part || "" : row.select ? row.select.value : "",
      blob: blob,
      name: name || "shot.jpg",
      taken: restored ? restored.taken : Date.now(),
      state: "queued",
      tries: 0
    };
    if (restored) it.saved = Promise.resolve(true);
    else keep(it);
    if (row.damage && !it.part) {
      say(row, gettext("Деталь не выбрана: выберите её в списке перед следующим кадром, чтобы повреждение попало в акт с деталью."));
    }
    show(it);
    items.push(it);
    set(it, "queued", queue.waiting(), 0);
    queue.pump();
    return it;
  }

  function show(it) {
    var fig = el("figure", "shot-thumb shot-local");
    fig.dataset.clientId = it.id;
    it.fig = fig;
    it.img = fig.appendChild(el("img"));
    it.img.alt = it.row.title;
    it.url = URL.createObjectURL(it.blob);
    it.img.onload = function () { it.img.onload = null; inspect(it); };
    it.img.src = it.url;
    it.bar = fig.appendChild(el("div", "progress shot-progress"));
    it.bar.setAttribute("role", "progressbar");
    it.bar.setAttribute("aria-label", interpolate(gettext("Отправка кадра «%(title)s»"), { title: it.row.title }, true));
    it.bar.setAttribute("aria-valuemin", "0");
    it.bar.setAttribute("aria-valuemax", "100");
    it.fill = it.bar.appendChild(el("div", "progress-bar"));
    if (it.part && it.row.select) {
      var opt = it.row.select.querySelector("option[value='" + it.part.replace(/'/g, "") + "']");
      if (opt) fig.appendChild(el("div", "small fw-semibold", opt.textContent));
    }
    it.text = fig.appendChild(el("div", "small shot-upload-state"));
    it.text.setAttribute("aria-live", "polite");
    it.warn = fig.appendChild(el("div", "small text-warning-emphasis shot-warn"));
    it.row.thumbs.appendChild(fig);
  }

  // Fast, on a tiny copy: the server measures properly; this only warns before it answers.
  function inspect(it) {
    var w = it.img.naturalWidth, h = it.img.naturalHeight;
    // Judged by the server already (its thumbnail may be what has loaded): nothing to add.
    if (!w || !h || !PENDING[it.state]) return;
    var notes = [];
    if (Math.max(w, h) < MIN_LONG || Math.min(w, h) < MIN_SHORT) {
      notes.push(interpolate(gettext("Маленькое фото (%(width)s × %(height)s), нужно от %(min_width)s × %(min_height)s: снимайте основной камерой."),
        { width: w, height: h, min_width: MIN_LONG, min_height: MIN_SHORT }, true));
    }
    var luma = meanLuma(it.img, w, h);
    if (luma !== null && luma < MIN_LUMA) notes.push(gettext("Темно: включите свет или фонарик."));
    if (notes.length) it.warn.textContent = notes.join(" ") + " " + gettext("Отправляю, сервер проверит.");
  }

  function meanLuma(img, w, h) {
    try {
      var s = 64 / Math.max(w, h);
      var c = el("canvas");
      c.width = Math.max(1, Math.round(w * s));
      c.height = Math.max(1, Math.round(h * s));
      var g = c.getContext("2d", { willReadFrequently: true });
      g.drawImage(img, 0, 0, c.width, c.height);
      var d = g.getImageData(0, 0, c.width, c.height).data;
      var sum = 0;
      // ITU-R 601 luma, as Pillow's "L" conversion that the server measures.
      for (var i = 0; i < d.length; i += 4) sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      return sum / (d.length / 4);
    } catch (e) {
      return null;
    }
  }

  function set(it, state, message, pct) {
    it.state = state;
    it.fig.dataset.state = state;
    text(it.text, message);
    it.text.classList.toggle("text-danger", state === "failed");
    if (pct != null) {
      it.fill.style.width = pct + "%";
      it.bar.setAttribute("aria-valuenow", pct);
    }
    it.bar.hidden = !PENDING[state];
    changed();
  }

  function pending() {
    return items.filter(function (it) { return PENDING[it.state]; }).length;
  }
  api.pending = pending;

  function changed() {
    var n = pending();
    var offline = items.some(function (it) { return it.state === "offline"; });
    var failing = items.some(function (it) { return it.state === "retry"; });
    var why = "";
    items.forEach(function (it) { if (it.state === "retry" && it.why) why = it.why; });
    list.dataset.pending = String(n);
    queueBox.dataset.count = String(n);
    queueBox.hidden = !n;
    queueBox.classList.toggle("alert-warning", offline || failing);
    queueBox.classList.toggle("alert-info", !(offline || failing));
    text(queueBox, n
      ? interpolate(gettext("Не отправлено: %(shots)s."), { shots: shots(n) }, true) + " " +
        (offline ? gettext("Нет связи — отправлю, когда появится сеть.")
          : failing ? why || gettext("Сервер не отвечает — повторяю.") : gettext("Отправляю…"))
      : "");
    if (toSign) {
      toSign.classList.toggle("disabled", !!n);
      if (n) {
        toSign.setAttribute("aria-disabled", "true");
        toSign.setAttribute("tabindex", "-1");
      } else {
        toSign.removeAttribute("aria-disabled");
        toSign.removeAttribute("tabindex");
      }
      signHint.hidden = !n;
      text(signHint, n ? interpolate(gettext("Подписывать можно, когда все кадры дойдут до сервера: ждём ещё %(shots)s."),
        { shots: shots(n) }, true) : "");
    }
    rows.forEach(refreshRow);
    refreshMissing();
  }

  // --- the network ---------------------------------------------------------------------

  // The shots go in the order taken, so the list fills in the order the advisor walks
  // round the car.
  function answer(it, s, j, x) {
    if (s >= 200 && s < 300 && j && j.id) return stored(it, j);
    if (s === 403 || /\/accounts\/login\//.test(x.responseURL || "")) {
      // Logged out or a stale token: keep the shot and try again; never drop it.
      return retry(it, gettext("Вход истёк: войдите снова в соседней вкладке, кадры подождут."));
    }
    if (s >= 400 && s < 500 && s !== 408 && s !== 429) {
      return refused(it, (j && j.error) || (s === 413 ? gettext("Файл слишком большой: снимите кадр заново камерой.") :
        interpolate(gettext("Сервер не принял кадр (%(status)s): снимите его ещё раз."), { status: s }, true)));
    }
    retry(it);
  }

  function retry(it, why) {
    it.why = why || "";
    queue.retry(it);
  }

  function stored(it, j) {
    forget(it);
    var row = it.row;
    var same = row.thumbs.querySelector(".shot-thumb[data-shot-id='" + j.id + "']");
    if (same && same !== it.fig) {
      // Stored before the page was reloaded: the server's own thumbnail is already here.
      it.fig.remove();
      URL.revokeObjectURL(it.url);
      it.blob = null;
      it.state = "done";
      return changed();
    }
    it.fig.dataset.shotId = j.id;
    it.fig.classList.remove("shot-local");
    if (j.thumb) swapThumb(it, j.thumb);
    it.blob = null;
    if (j.accepted) {
      it.warn.textContent = "";
      set(it, "done", gettext("Сохранено"), 100);
    } else {
      it.fig.classList.add("shot-rejected");
      it.warn.textContent = "";
      var why = el("figcaption", "small text-danger", (j.problems || []).join(" ") || gettext("Кадр не прошёл проверку."));
      it.fig.appendChild(why);
      it.fig.appendChild(retakeButton(row));
      set(it, "rejected", gettext("Переснимите кадр"), 100);
    }
    it.fig.appendChild(discardForm(j.id));
  }

  function refused(it, message) {
    forget(it);
    it.blob = null;
    it.fig.classList.add("shot-rejected");
    it.warn.textContent = "";
    it.fig.appendChild(retakeButton(it.row));
    var drop = it.fig.appendChild(button("btn btn-link btn-sm p-0 d-block", gettext("Убрать")));
    drop.addEventListener("click", function () {
      it.fig.remove();
      URL.revokeObjectURL(it.url);
      items.splice(items.indexOf(it), 1);
      changed();
    });
    set(it, "failed", message, 100);
  }

  function swapThumb(it, url) {
    var src = url;
    try {
      // The server names its own host; behind a proxy that may be http on an https page.
      var u = new URL(url, location.href);
      src = u.pathname + u.search;
    } catch (e) { /* keep it as it came */ }
    var pre = new Image();
    pre.onload = function () {
      it.img.src = src;
      URL.revokeObjectURL(it.url);
    };
    pre.src = src;
  }

  function discardForm(shotId) {
    var f = el("form");
    f.method = "post";
    f.action = UPLOAD_URL + shotId + "/discard/";
    var token = el("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrf();
    f.appendChild(token);
    var b = f.appendChild(el("button", "btn btn-link btn-sm p-0", gettext("Убрать")));
    b.type = "submit";
    return f;
  }

  // --- the guided camera ---------------------------------------------------------------

  function canGuide() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia) &&
      (window.isSecureContext || /^(localhost|127\.0\.0\.1|\[::1\])$/.test(location.hostname));
  }

  // Outlines drawn in a 400 × 300 box, centred on the picture; "flip" mirrors left and right.
  var WHEELS = '<path d="M72 226v20h44v-20M284 226v20h44v-20"/>';
  var CORNER = '<path d="M28 214v-44l16-30 60-10 46-42q10-8 26-8h118q16 0 28 10l42 38 18 8q10 5 10 18v60z"/>' +
    '<path d="M104 130v84M112 128l44-38h60l8 38zM234 90h48l40 38h-90z"/>' +
    '<rect x="38" y="150" width="52" height="16" rx="5"/><rect x="44" y="182" width="40" height="12"/>' +
    '<ellipse cx="150" cy="214" rx="20" ry="28"/><ellipse cx="330" cy="212" rx="22" ry="30"/>';
  var FACE = '<path d="M60 226v-62q0-22 22-28l32-52q8-12 24-12h124q16 0 24 12l32 52q22 6 22 28v62z"/>';
  var GUIDES = {
    corner_front_left: { svg: CORNER },
    corner_front_right: { svg: CORNER, flip: true },
    corner_rear_left: { svg: CORNER, flip: true },
    corner_rear_right: { svg: CORNER },
    front: { svg: FACE + WHEELS + '<path d="M118 130l26-40h112l26 40z"/><rect x="78" y="150" width="56" height="20" rx="6"/>' +
      '<rect x="266" y="150" width="56" height="20" rx="6"/><rect x="165" y="190" width="70" height="18" rx="2"/>' },
    rear: { svg: FACE + WHEELS + '<path d="M126 128l22-34h104l22 34z"/><rect x="70" y="146" width="66" height="18" rx="4"/>' +
      '<rect x="264" y="146" width="66" height="18" rx="4"/><rect x="165" y="176" width="70" height="18" rx="2"/><path d="M70 204h260"/>' },
    side: { svg: '<path d="M20 206v-28q2-20 30-26l62-10 44-40q10-8 26-8h84q16 0 28 10l40 38 40 8q20 4 20 28v28z"/>' +
      '<path d="M124 140l36-32h52v32zM226 108h48q10 0 18 8l24 24h-90z"/><circle cx="96" cy="206" r="28"/><circle cx="304" cy="206" r="28"/>' },
    roof: { svg: '<rect x="40" y="70" width="320" height="160" rx="60"/><rect x="125" y="95" width="160" height="110" rx="18"/>' +
      '<path d="M95 90l30 20v80l-30 20M315 95l-30 15v80l30 15"/>' },
    vin: { svg: '<rect x="30" y="115" width="340" height="70" rx="8"/><path d="M52 150h296" stroke-dasharray="12 7"/>' },
    dashboard: { svg: '<path d="M30 230V120q0-40 40-40h260q40 0 40 40v110"/><circle cx="140" cy="160" r="55"/>' +
      '<circle cx="260" cy="160" r="55"/><path d="M140 160l32-30M260 160l-26-36"/>' },
    interior: { svg: '<path d="M88 262V112q0-30 30-30h44q30 0 30 30v150zM208 262V112q0-30 30-30h44q30 0 30 30v150z"/>' +
      '<rect x="115" y="36" width="50" height="32" rx="10"/><rect x="235" y="36" width="50" height="32" rx="10"/>' },
    boot: { svg: '<path d="M50 256V150h300v106zM70 150l34-104h192l34 104"/><rect x="165" y="206" width="70" height="18" rx="2"/>' },
    wheel: { svg: '<circle cx="200" cy="150" r="125"/><circle cx="200" cy="150" r="74"/><circle cx="200" cy="150" r="14"/>' },
    closeup: { svg: '<path d="M70 50H40v30M330 50h30v30M70 250H40v-30M330 250h30v-30M188 150h24M200 138v24"/>' }
  };

  function guideSvg(name) {
    var g = GUIDES[name] || GUIDES.closeup;
    var body = g.flip ? '<g transform="translate(400 0) scale(-1 1)">' + g.svg + "</g>" : g.svg;
    return '<svg class="cam-guide" viewBox="0 0 400 300" preserveAspectRatio="xMidYMid meet" aria-hidden="true">' + body + "</svg>";
  }

  function openCamera(row, opener) {
    if (camera) return;
    var box = el("div", "cam-view");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", gettext("Камера с подсказкой"));
    box.innerHTML =
      '<div class="cam-bar"><div class="cam-title"><strong></strong><div class="small"></div></div>' +
      '<button type="button" class="btn btn-light" data-act="close"></button></div>' +
      '<div class="cam-stage"><video playsinline muted autoplay></video><div class="cam-overlay"></div>' +
      '<div class="cam-msg" aria-live="polite"></div><div class="cam-flash"></div></div>' +
      '<div class="cam-bar cam-controls"><button type="button" class="btn btn-outline-light" data-act="prev"></button>' +
      '<button type="button" class="cam-shutter" data-act="shoot"></button>' +
      '<button type="button" class="btn btn-outline-light" data-act="next"></button></div>';
    // Translated words go in as text, never as markup.
    box.querySelector("[data-act=close]").textContent = gettext("Закрыть");
    box.querySelector("[data-act=prev]").textContent = gettext("‹ Назад");
    box.querySelector("[data-act=shoot]").setAttribute("aria-label", gettext("Сделать снимок"));
    box.querySelector("[data-act=next]").textContent = gettext("Дальше ›");
    var v = {
      box: box,
      row: row,
      opener: opener,
      stream: null,
      video: box.querySelector("video"),
      overlay: box.querySelector(".cam-overlay"),
      msg: box.querySelector(".cam-msg")
    };
    camera = v;
    document.body.appendChild(box);
    document.body.classList.add("cam-open");
    box.addEventListener("click", function (e) {
      var act = e.target.closest("[data-act]");
      if (!act) return;
      if (act.dataset.act === "close") closeCamera();
      else if (act.dataset.act === "shoot") shoot();
      else moveTo(act.dataset.act === "next" ? neighbour(v.row, 1) : neighbour(v.row, -1));
    });
    v.video.addEventListener("loadedmetadata", fitGuide);
    showRow(row);
    box.querySelector("[data-act=shoot]").focus();
    navigator.mediaDevices.getUserMedia({
      audio: false,
      // As large as the camera gives: the server wants at least 1280 × 720.
      video: { facingMode: { ideal: "environment" }, width: { ideal: 4096 }, height: { ideal: 3072 } }
    }).then(function (stream) {
      if (camera !== v) return stopStream(stream);
      v.stream = stream;
      v.video.srcObject = stream;
      var played = v.video.play();
      if (played && played.catch) played.catch(function () {});
    }, function (e) {
      if (camera !== v) return;
      closeCamera();
      say(row, cameraError(e), true);
    });
  }

  function cameraError(e) {
    var name = e && e.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return gettext("Нет доступа к камере: разрешите камеру для этого сайта в настройках браузера или снимайте кнопкой «Снять».");
    }
    if (name === "NotReadableError") return gettext("Камера занята другим приложением: закройте его или снимайте кнопкой «Снять».");
    return gettext("Камера не найдена: снимайте кнопкой «Снять».");
  }

  function showRow(row) {
    var v = camera;
    v.row = row;
    v.box.querySelector(".cam-title strong").textContent = row.title;
    v.box.querySelector(".cam-title .small").textContent = row.hint +
      (row.select && row.select.value ? " · " + row.select.options[row.select.selectedIndex].text : "");
    v.overlay.innerHTML = guideSvg(row.guide);
    v.msg.textContent = "";
    fitGuide();
  }

  // The outline is drawn for 4:3; widen the view box to the camera's own shape so that,
  // both fitted "contain", the outline sits on the picture and not on the black bars.
  function fitGuide() {
    var v = camera;
    if (!v) return;
    var svg = v.overlay.querySelector("svg");
    var w = v.video.videoWidth, h = v.video.videoHeight;
    if (!svg || !w || !h) return;
    var a = w / h;
    var bw = Math.max(400, 300 * a), bh = Math.max(300, 400 / a);
    svg.setAttribute("viewBox", [(400 - bw) / 2, (300 - bh) / 2, bw, bh].join(" "));
  }

  function neighbour(row, step) {
    var i = rows.indexOf(row) + step;
    return i >= 0 && i < rows.length ? rows[i] : null;
  }

  function moveTo(row) {
    while (row && !row.input) row = neighbour(row, 1);
    if (row) showRow(row);
  }

  // The next shot of the list not taken yet: after a shot the view moves on by itself.
  function nextToShoot(row) {
    for (var r = neighbour(row, 1); r; r = neighbour(r, 1)) {
      if (r.input && !r.damage && !r.el.classList.contains("shot-done") && !rowPending(r)) return r;
    }
    return null;
  }

  function shoot() {
    var v = camera;
    var w = v.video.videoWidth, h = v.video.videoHeight;
    if (!v.stream || !w || !h) {
      v.msg.textContent = gettext("Камера ещё включается…");
      return;
    }
    // The full frame of the video track: the server wants detail, not a screen-sized copy.
    var c = el("canvas");
    c.width = w;
    c.height = h;
    c.getContext("2d").drawImage(v.video, 0, 0, w, h);
    var flash = v.box.querySelector(".cam-flash");
    flash.classList.remove("on");
    void flash.offsetWidth;
    flash.classList.add("on");
    var row = v.row;
    c.toBlob(function (blob) {
      c.width = c.height = 0; // iOS holds canvas memory until told otherwise
      if (!blob) {
        if (camera === v) v.msg.textContent = gettext("Кадр не получился: снимите ещё раз.");
        return;
      }
      take(row, blob, "camera-" + row.spec + "-" + Date.now() + ".jpg");
      if (camera !== v) return;
      if (row.damage) {
        v.msg.textContent = gettext("Снято. Снимите следующее повреждение или закройте камеру.");
        return;
      }
      var next = nextToShoot(row);
      if (next) {
        showRow(next);
        v.msg.textContent = interpolate(gettext("Снято: %(title)s"), { title: row.title }, true);
      } else {
        v.msg.textContent = gettext("Все кадры по списку сняты.");
        setTimeout(function () { if (camera === v) closeCamera(); }, 1200);
      }
    }, "image/jpeg", 0.9);
  }

  function stopStream(stream) {
    stream.getTracks().forEach(function (t) { t.stop(); });
  }

  function closeCamera() {
    var v = camera;
    if (!v) return;
    camera = null;
    if (v.stream) stopStream(v.stream);
    v.video.srcObject = null;
    v.box.remove();
    document.body.classList.remove("cam-open");
    var target = v.row.el.querySelector(".shot-camera") || v.opener;
    if (target) target.focus();
  }

  document.addEventListener("keydown", function (e) {
    if (camera && e.key === "Escape") {
      e.preventDefault();
      closeCamera();
    }
  });
  // The camera is released when the tablet is put away or the page is left.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) closeCamera();
    else if (navigator.onLine !== false) queue.network();
  });

  function addStyle() {
    var css =
      ".shot-queue{position:sticky;top:0;z-index:1020}" +
      ".shot-progress{height:.3rem;margin-top:.2rem}" +
      ".shot-thumb .small{line-height:1.2;overflow-wrap:anywhere}" +
      ".shot-local img{opacity:.85}" +
      "body.cam-open{overflow:hidden}" +
      ".cam-view{position:fixed;inset:0;z-index:2000;background:#000;color:#fff;display:flex;flex-direction:column}" +
      ".cam-bar{display:flex;align-items:center;gap:.75rem;padding:.5rem .75rem;background:rgba(0,0,0,.6)}" +
      ".cam-title{flex:1;min-width:0}" +
      ".cam-controls{justify-content:space-between;padding-bottom:max(.75rem,env(safe-area-inset-bottom))}" +
      ".cam-stage{position:relative;flex:1;min-height:0}" +
      ".cam-stage video,.cam-overlay,.cam-overlay svg,.cam-flash{position:absolute;inset:0;width:100%;height:100%}" +
      ".cam-stage video{object-fit:contain}" +
      ".cam-overlay{pointer-events:none}" +
      ".cam-guide *{fill:none;stroke:rgba(255,255,255,.8);stroke-width:3;stroke-linejoin:round;vector-effect:non-scaling-stroke}" +
      ".cam-guide{filter:drop-shadow(0 0 2px #000)}" +
      ".cam-msg{position:absolute;left:0;right:0;bottom:1rem;text-align:center;text-shadow:0 0 3px #000}" +
      ".cam-flash{background:#fff;opacity:0;pointer-events:none}" +
      ".cam-flash.on{animation:cam-flash .25s ease-out}" +
      "@keyframes cam-flash{from{opacity:.8}to{opacity:0}}" +
      ".cam-shutter{width:4.5rem;height:4.5rem;border-radius:50%;border:.3rem solid #fff;background:rgba(255,255,255,.35)}" +
      ".cam-shutter:active{background:#fff}";
    var style = el("style");
    style.textContent = css;
    document.head.appendChild(style);
  }

  // --- start ---------------------------------------------------------------------------

  [].forEach.call(list.querySelectorAll("li.shot-row"), setupRow);
  window.addEventListener("beforeunload", function (e) {
    // Only where IndexedDB could not keep the shots; otherwise they resume on the next load.
    if (volatile && pending()) {
      e.preventDefault();
      e.returnValue = "";
    }
  });
  // Shots taken before a reload (or a crash of the tab) go on where they stopped.
  store.all().then(function (recs) {
    recs.sort(function (a, b) { return a.taken - b.taken; }).forEach(function (rec) {
      if (!rec.blob || items.some(function (it) { return it.id === rec.id; })) return;
      var row = rows.find(function (r) { return r.spec === String(rec.spec) && r.input; });
      if (row) take(row, rec.blob, rec.name, rec);
    });
  });
  changed();
})();
