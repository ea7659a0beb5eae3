// Prefill the make from the VIN's manufacturer code as soon as the VIN is typed.
(function () {
  "use strict";
  var form = document.getElementById("intake-start");
  if (!form || !window.fetch) return;
  var vin = form.querySelector("[name=vin]");
  var make = form.querySelector("[name=make]");
  vin.addEventListener("change", function () {
    var value = vin.value.replace(/[\s-]/g, "").toUpperCase();
    if (value.length < 3 || make.value) return;
    fetch(form.dataset.vinUrl + "?vin=" + encodeURIComponent(value), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (data) { if (data.make && !make.value) make.value = data.make; })
      .catch(function () {});
  });
})();
