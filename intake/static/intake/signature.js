/* Signature pads of the intake act (/staff/intake/<id>/sign/).
 *
 * The customer and the advisor sign with a finger, a pen or a mouse. Strokes are kept as
 * points, not only as pixels, so that turning the tablet (a resize) redraws them sharp at
 * the new size instead of wiping them. On submit each pad that was signed goes to its
 * hidden input as a PNG data URL; an untouched pad leaves the input empty and the server
 * answers with a Russian message that the signature is missing. */
(function () {
  "use strict";
  var form = document.getElementById("sign-form");
  if (!form || !window.HTMLCanvasElement || !window.gettext) return;
  var INK = "#10206b"; // dark enough for the server's ink test on any screen
  var WIDTH = 2.6; // CSS pixels at the size the signature was begun
  var pads = [].map.call(form.querySelectorAll("canvas.signature-pad"), setup);

  function setup(canvas) {
    var ctx = canvas.getContext("2d");
    var input = form.querySelector("input[name='" + canvas.dataset.input + "']");
    // Points are stored at the pad's size when the first stroke began (ref); a resize
    // draws them scaled to fit the new size, new points are stored back at that size.
    var strokes = [];
    var ref = null;
    var current = null;
    var pointer = null;
    var size = { w: 0, h: 0, dpr: 1 };

    canvas.style.touchAction = "none";
    if (!canvas.getAttribute("aria-label")) canvas.setAttribute("aria-label", gettext("Поле для подписи"));

    function scale() {
      return ref ? Math.min(size.w / ref.w, size.h / ref.h) : 1;
    }

    function resize() {
      var w = canvas.clientWidth, h = canvas.clientHeight;
      if (!w || !h) return;
      var dpr = Math.min(window.devicePixelRatio || 1, 3);
      if (w === size.w && h === size.h && dpr === size.dpr) return;
      size = { w: w, h: h, dpr: dpr };
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      redraw();
    }

    function redraw() {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      strokes.forEach(function (s) { for (var i = 0; i < s.length; i++) segment(s, i, true); });
      if (current) for (var i = 0; i < current.length; i++) segment(current, i, false);
    }

    function style(w) {
      var k = scale() * size.dpr;
      ctx.setTransform(k, 0, 0, k, 0, 0);
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = ctx.fillStyle = INK;
      ctx.lineWidth = w;
    }

    function mid(a, b) {
      return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
    }

    // Point i of a stroke: a quadratic curve through the midpoints of its neighbours, the
    // usual way to smooth what a finger draws; the last point closes with a straight end.
    function segment(s, i, finished) {
      var p = s[i];
      if (s.length === 1) {
        style(p.w);
        ctx.beginPath();
        ctx.arc(p.x, p.y, p.w / 2, 0, Math.PI * 2);
        ctx.fill();
        return;
      }
      if (i === 0) return;
      var a = s[i - 1];
      style((a.w + p.w) / 2);
      ctx.beginPath();
      if (i === 1) {
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(mid(a, p).x, mid(a, p).y);
      } else {
        var from = mid(s[i - 2], a), to = mid(a, p);
        ctx.moveTo(from.x, from.y);
        ctx.quadraticCurveTo(a.x, a.y, to.x, to.y);
      }
      if (finished && i === s.length - 1) ctx.lineTo(p.x, p.y);
      ctx.stroke();
    }

    function point(e) {
      var r = canvas.getBoundingClientRect();
      var k = scale();
      // A pen's pressure thickens the line; a finger or a mouse reports a flat 0.5.
      var pressure = e.pointerType === "pen" && e.pressure > 0 ? e.pressure : 0.5;
      return {
        x: (e.clientX - r.left - canvas.clientLeft) / k,
        y: (e.clientY - r.top - canvas.clientTop) / k,
        w: WIDTH * (0.5 + pressure)
      };
    }

    function add(e) {
      var p = point(e);
      var last = current[current.length - 1];
      if (last && Math.abs(last.x - p.x) + Math.abs(last.y - p.y) < 0.7) return;
      current.push(p);
      segment(current, current.length - 1, false);
    }

    canvas.addEventListener("pointerdown", function (e) {
      if (pointer !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
      e.preventDefault();
      resize();
      if (!ref) ref = { w: size.w, h: size.h };
      pointer = e.pointerId;
      try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* already gone */ }
      current = [];
      add(e);
    });
    canvas.addEventListener("pointermove", function (e) {
      if (e.pointerId !== pointer) return;
      e.preventDefault();
      var events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      (events.length ? events : [e]).forEach(add);
    });
    function end(e) {
      if (e.pointerId !== pointer) return;
      pointer = null;
      if (current && current.length) {
        strokes.push(current);
        if (current.length > 1) segment(current, current.length - 1, true);
        else redraw();
      }
      current = null;
      if (input) input.value = "";
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("lostpointercapture", end);

    function clear() {
      strokes = [];
      current = null;
      ref = null;
      if (input) input.value = "";
      redraw();
    }

    if (window.ResizeObserver) new ResizeObserver(resize).observe(canvas);
    resize();

    return {
      canvas: canvas,
      input: input,
      resize: resize,
      clear: clear,
      drawn: function () { return strokes.length > 0; }
    };
  }

  [].forEach.call(form.querySelectorAll(".pad-clear[data-pad]"), function (b) {
    b.addEventListener("click", function () {
      pads.forEach(function (pad) { if (pad.canvas.id === b.dataset.pad) pad.clear(); });
    });
  });

  var pending = 0;
  function resizeAll() {
    clearTimeout(pending);
    pending = setTimeout(function () { pads.forEach(function (pad) { pad.resize(); }); }, 50);
  }
  window.addEventListener("resize", resizeAll);
  window.addEventListener("orientationchange", resizeAll);

  form.addEventListener("submit", function () {
    pads.forEach(function (pad) {
      // Left empty when nothing was drawn: the server says whose signature is missing.
      if (pad.input) pad.input.value = pad.drawn() ? pad.canvas.toDataURL("image/png") : "";
    });
    var submit = form.querySelector("[type=submit]");
    if (submit) setTimeout(function () { submit.disabled = true; }, 0);
  });
  // Back from the sealed record (bfcache): the button must work again.
  window.addEventListener("pageshow", function (e) {
    var submit = form.querySelector("[type=submit]");
    if (e.persisted && submit) submit.disabled = false;
  });

  window.intakeSignature = {
    drawn: function () { return pads.map(function (pad) { return pad.drawn(); }); }
  };
})();
