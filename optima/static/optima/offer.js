// The driver's offer page: the total follows the picks, and a "whole set" tap only
// preselects. Sums are added in kopecks from the plain decimal strings the page carries
// (data-price="18500.00"), never from the localised text; the server recomputes and the
// confirm step shows its figure.
(function () {
  "use strict";
  var form = document.getElementById("offer-form");
  var out = document.getElementById("offer-total");

  function kopecks(text) {
    var match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(text || "").trim());
    if (!match) return null;
    return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
  }

  // As autoservice.money.format_rub: "12 345,50 ₽" (narrow no-break spaces between
  // thousands, kopecks only when there are any).
  function formatRub(total) {
    var whole = String(Math.floor(total / 100));
    var cents = total % 100;
    var groups = [];
    while (whole.length) {
      groups.unshift(whole.slice(-3));
      whole = whole.slice(0, -3);
    }
    var text = groups.join("\u202f");
    if (cents) text += "," + String(cents).padStart(2, "0");
    return text + "\u00a0₽";
  }

  function plain(total) {
    return Math.floor(total / 100) + "." + String(total % 100).padStart(2, "0");
  }

  if (form && out) {
    var update = function () {
      var total = kopecks(form.dataset.labour);
      var names = {};
      var missing = false;
      form.querySelectorAll("input[type=radio][name^=pos_]").forEach(function (r) {
        names[r.name] = true;
      });
      Object.keys(names).forEach(function (name) {
        var picked = form.querySelector("input[name='" + name + "']:checked");
        var price = picked ? kopecks(picked.dataset.price) : null;
        if (price === null) missing = true;
        else total += price;
      });
      if (total === null || missing) {
        out.textContent = out.dataset.empty || "—";
        out.dataset.total = "";
      } else {
        out.textContent = formatRub(total);
        out.dataset.total = plain(total);
      }
    };
    form.addEventListener("change", update);
    form.querySelectorAll("button[data-set]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var set = button.dataset.set;
        var names = {};
        form.querySelectorAll("input[type=radio][name^=pos_]").forEach(function (r) {
          names[r.name] = true;
        });
        Object.keys(names).forEach(function (name) {
          var radios = form.querySelectorAll("input[name='" + name + "']");
          for (var i = 0; i < radios.length; i++) {
            if (radios[i].dataset.sets.split("|").indexOf(set) !== -1) {
              radios[i].checked = true;
              break;
            }
          }
        });
        update();
      });
    });
    update();
  }

  // The confirm button sends once: a second tap while the page loads is ignored (and the
  // server treats the same confirmation twice as one acceptance anyway).
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !button.hasAttribute("data-once")) return;
      if (button.dataset.sent) {
        event.preventDefault();
        return;
      }
      button.dataset.sent = "1";
    });
  });
})();
