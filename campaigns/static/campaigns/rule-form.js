// The reminder rule form shows only the settings of the chosen kind; without this script
// every field stays visible and the form works the same.
(function () {
  "use strict";
  var FIELDS = {
    maintenance: ["interval_months"],
    anticorrosion: ["interval_months"],
    warranty: ["warranty_months", "days_before"],
    seasonal: ["spring_date", "autumn_date"],
    mileage: ["mileage_step_km"],
  };
  var ALL = ["interval_months", "warranty_months", "days_before", "spring_date", "autumn_date", "mileage_step_km"];
  var kind = document.getElementById("id_kind");
  if (!kind) return;
  function show() {
    var wanted = FIELDS[kind.value] || ALL;
    ALL.forEach(function (name) {
      var block = document.getElementById("div_id_" + name);
      if (block) block.hidden = wanted.indexOf(name) === -1;
    });
  }
  kind.addEventListener("change", show);
  show();
})();
