// The driver sees the total of the options picked before accepting.
(function () {
  "use strict";
  var form = document.getElementById("offer-form");
  var out = document.getElementById("offer-total");
  if (!form || !out) return;
  var fmt = new Intl.NumberFormat("ru-RU", { style: "currency", currency: "RUB", maximumFractionDigits: 2 });
  function update() {
    var total = Number(form.dataset.labour || 0);
    var missing = false;
    var names = {};
    form.querySelectorAll("input[type=radio][name^=pos_]").forEach(function (r) { names[r.name] = true; });
    Object.keys(names).forEach(function (name) {
      var picked = form.querySelector("input[name='" + name + "']:checked");
      if (picked) total += Number(picked.dataset.price); else missing = true;
    });
    out.textContent = missing ? "—" : fmt.format(total);
  }
  form.addEventListener("change", update);
  update();
})();
