// Filters the rows of the parts tables on the page (search results, offer builder) without
// asking the server: by brand, original or analogue, in stock, and second-hand lines (shown
// only when the shop sells them, or when asked). Rows carry what is filtered on in data-*
// attributes. Without this script the filter bar stays hidden and every row shows. A row
// the advisor has ticked is never hidden: it stays in the offer, so it stays in sight.
(function () {
  "use strict";

  function rowsOf(bar) {
    var scope = document.getElementById(bar.dataset.target);
    return scope ? Array.prototype.slice.call(scope.querySelectorAll("tr[data-brand]")) : [];
  }

  function fillBrands(bar) {
    var select = bar.querySelector("[name=f-brand]");
    if (!select) return;
    var current = select.value;
    var brands = {};
    rowsOf(bar).forEach(function (row) { brands[row.dataset.brand] = true; });
    Array.prototype.slice.call(select.options, 1).forEach(function (o) { o.remove(); });
    Object.keys(brands).sort().forEach(function (brand) {
      var option = new Option(brand, brand);
      select.add(option);
    });
    select.value = brands[current] ? current : "";
  }

  function keeps(bar, row) {
    var brand = bar.querySelector("[name=f-brand]");
    var quality = bar.querySelector("[name=f-quality]");
    var stock = bar.querySelector("[name=f-stock]");
    var used = bar.querySelector("[name=f-used]");
    if (row.querySelector("input[type=checkbox]:checked")) return true;
    if (brand && brand.value && row.dataset.brand !== brand.value) return false;
    if (quality && quality.value === "original" && row.dataset.quality !== "original") return false;
    if (quality && quality.value === "analogue" && row.dataset.quality === "original") return false;
    if (stock && stock.checked && row.dataset.inStock !== "1") return false;
    if (used && !used.checked && row.dataset.condition !== "new") return false;
    return true;
  }

  function apply(bar) {
    var rows = rowsOf(bar);
    var shown = 0;
    rows.forEach(function (row) {
      var keep = keeps(bar, row);
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    // A part whose every row is filtered out says so instead of showing an empty table.
    var scope = document.getElementById(bar.dataset.target);
    Array.prototype.slice.call(scope ? scope.querySelectorAll("table") : []).forEach(function (table) {
      var all = table.querySelectorAll("tr[data-brand]");
      if (!all.length) return;
      var none = !table.querySelector("tr[data-brand]:not([hidden])");
      var note = table.parentNode.querySelector(".rows-filter-empty");
      if (!note) {
        note = document.createElement("p");
        note.className = "small text-body-secondary rows-filter-empty";
        note.textContent = bar.dataset.emptyText;
        table.parentNode.insertBefore(note, table);
      }
      note.hidden = !none;
      table.hidden = none;
    });
    var count = bar.querySelector(".rows-filter-count");
    if (count) {
      count.textContent = bar.dataset.countText
        .replace("{shown}", String(shown))
        .replace("{total}", String(rows.length));
    }
  }

  function bars() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-rows-filter]"));
  }

  bars().forEach(function (bar) {
    bar.hidden = false;
    fillBrands(bar);
    apply(bar);
    bar.addEventListener("change", function () { apply(bar); });
  });

  // The results table is replaced while suppliers answer (htmx): filter the new rows too.
  document.addEventListener("htmx:afterSwap", function () {
    bars().forEach(function (bar) {
      fillBrands(bar);
      apply(bar);
    });
  });
})();
