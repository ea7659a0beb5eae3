/* Damage picker of the repair calculator (smartcalc/_damage_picker.html).
 *
 * The two selects per part in .damage-list ARE the form: they post without this script,
 * and the page's htmx recomputes the estimate on their "change". The script only puts the
 * drawing in front of them: a tap on a part opens a sheet, the sheet writes that part's
 * selects and fires one bubbling "change" on the form. Part names and the choices come
 * from the template; the few words the script composes come from Django's JavaScript
 * catalogue (gettext, loaded by base.html before this file), so both are translated. */
(function () {
  "use strict";
  // A broken or missing part is the worst case whatever its size.
  var WORST_KIND = "broken";
  var SEVERITIES = ["sev-1", "sev-2", "sev-3", "sev-4", "sev-incomplete"];
  var VIEW_KEY = "damage-picker-view";

  function severity(row) {
    var kind = row.kind.value;
    var size = row.size.value;
    if (!kind && !size) return "";
    if (kind === WORST_KIND) return "sev-4";
    if (!kind || !size) return "sev-incomplete";
    // Sizes come in ascending order after the empty option: 1 → sev-1 … 4 → sev-4.
    return "sev-" + Math.min(Math.max(row.size.selectedIndex, 1), 4);
  }

  function optionText(select, fallback) {
    return select.value ? select.options[select.selectedIndex].text : fallback;
  }

  function savedView() {
    try { return window.localStorage.getItem(VIEW_KEY); } catch (e) { return null; }
  }

  function saveView(view) {
    try { window.localStorage.setItem(VIEW_KEY, view); } catch (e) { /* private mode */ }
  }

  function setup(root) {
    if (root.dataset.pickerReady) return;
    var diagram = root.querySelector(".damage-diagram");
    var list = root.querySelector(".damage-list");
    var sheet = root.querySelector(".damage-sheet");
    var summary = root.querySelector(".damage-summary");
    var emptyNote = root.querySelector(".damage-summary-empty");
    var itemTemplate = root.querySelector(".damage-summary-template");
    var toggle = root.querySelector(".damage-toggle");
    if (!diagram || !list || !sheet || !summary || !itemTemplate || !diagram.querySelector("svg")) return;
    root.dataset.pickerReady = "1";

    var card = sheet.querySelector(".damage-sheet-card");
    var sheetPart = sheet.querySelector(".damage-sheet-part");
    var hint = sheet.querySelector(".damage-sheet-hint");
    var kindGroup = sheet.querySelector('[data-field="kind"]');
    var sizeGroup = sheet.querySelector('[data-field="size"]');
    var kindInputs = kindGroup.querySelectorAll("input");
    var sizeInputs = sizeGroup.querySelectorAll("input");
    var removeButton = sheet.querySelector('.damage-sheet-actions [data-action="remove"]');
    var sizeChoices = sizeGroup.querySelector(".damage-choices");
    var sizeHowto = sizeGroup.querySelector(".damage-howto");
    var sizeBroken = sizeGroup.querySelector(".damage-size-broken");

    // A broken or missing part needs no size: the size choices give way to a short note.
    function sizeFollowsKind() {
      var broken = checked(kindInputs) === WORST_KIND;
      if (broken) check(sizeInputs, "");
      if (sizeChoices) sizeChoices.hidden = broken;
      if (sizeHowto) sizeHowto.hidden = broken;
      if (sizeBroken) sizeBroken.hidden = !broken;
    }

    var rows = {};
    var order = [];
    list.querySelectorAll(".damage-row").forEach(function (fieldset) {
      var code = fieldset.dataset.part;
      var row = {
        code: code,
        name: fieldset.querySelector("legend").textContent.trim(),
        kind: fieldset.querySelector('select[name="kind_' + code + '"]'),
        size: fieldset.querySelector('select[name="size_' + code + '"]'),
        region: diagram.querySelector('.part[data-part="' + code + '"]'),
        item: null
      };
      if (!row.kind || !row.size) return;
      rows[code] = row;
      order.push(code);
      if (row.region) row.region.setAttribute("aria-haspopup", "dialog");
    });
    // A region without a row (a part this body does not have) must not look tappable.
    diagram.querySelectorAll(".part").forEach(function (region) {
      if (rows[region.dataset.part]) return;
      region.removeAttribute("tabindex");
      region.classList.add("part-off");
    });

    var current = null;  // the row the sheet edits
    var opener = null;   // where focus goes back when the sheet closes

    function notifyForm(row) {
      // One event for both selects: htmx (hx-trigger="change" on the form) recomputes once.
      var target = row.kind.form || root;
      target.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function describe(row) {
      // A broken or missing part has no size: it is replaced whole.
      if (row.kind.value === WORST_KIND) return optionText(row.kind, "");
      return interpolate(gettext("%(kind)s, %(size)s"), {
        kind: optionText(row.kind, gettext("вид не указан")),
        size: optionText(row.size, gettext("размер не указан"))
      }, true);
    }

    function refresh(row) {
      var sev = severity(row);
      // The list's size select means nothing for a broken part (and is not posted).
      row.size.disabled = row.kind.value === WORST_KIND;
      var damaged = sev !== "";
      if (row.region) {
        SEVERITIES.forEach(function (c) { row.region.classList.remove(c); });
        if (sev) row.region.classList.add(sev);
        // A screen reader hears the damage with the part's name.
        row.region.setAttribute("aria-label", damaged
          ? interpolate(gettext("%(part)s: %(damage)s"), { part: row.name, damage: describe(row) }, true)
          : row.name);
      }
      if (!damaged) {
        if (row.item) row.item.remove();
        row.item = null;
      } else {
        if (!row.item) row.item = insertItem(row);
        var swatch = row.item.querySelector(".damage-swatch");
        SEVERITIES.forEach(function (c) { swatch.classList.remove(c); });
        swatch.classList.add(sev);
        row.item.querySelector(".damage-summary-desc").textContent = describe(row);
      }
      if (emptyNote) emptyNote.hidden = !!summary.querySelector(".damage-summary-item");
    }

    function insertItem(row) {
      var item = itemTemplate.content.firstElementChild.cloneNode(true);
      item.dataset.part = row.code;
      item.querySelector(".damage-summary-name").textContent = row.name;
      item.querySelectorAll(".damage-summary-for").forEach(function (s) { s.textContent = " — " + row.name; });
      // Keep the summary in the order of the list, whatever order the parts were tapped in.
      var next = null;
      for (var i = order.indexOf(row.code) + 1; i < order.length && !next; i++) next = rows[order[i]].item;
      summary.insertBefore(item, next);
      return item;
    }

    function write(row, kind, size) {
      if (row.kind.value === kind && row.size.value === size) return;
      row.kind.value = kind;
      row.size.value = size;
      refresh(row);
      notifyForm(row);
    }

    function check(inputs, value) {
      inputs.forEach(function (input) { input.checked = input.value === value; });
    }

    function checked(inputs) {
      for (var i = 0; i < inputs.length; i++) if (inputs[i].checked) return inputs[i].value;
      return "";
    }

    function firstOf(inputs) {
      for (var i = 0; i < inputs.length; i++) if (inputs[i].checked) return inputs[i];
      return inputs[0];
    }

    function tabbables() {
      var buttons = Array.prototype.filter.call(sheet.querySelectorAll("button"), function (b) {
        return !b.hidden && !b.disabled && b.offsetParent !== null;
      });
      var stops = [buttons[0], firstOf(kindInputs)];
      if (!sizeChoices || !sizeChoices.hidden) stops.push(firstOf(sizeInputs));
      return stops.concat(buttons.slice(1));
    }

    function open(code, from) {
      var row = rows[code];
      if (!row) return;
      if (current) close(false);
      current = row;
      opener = from || row.region;
      sheetPart.textContent = row.name;
      check(kindInputs, row.kind.value);
      check(sizeInputs, row.size.value);
      sizeFollowsKind();
      hint.hidden = true;
      kindGroup.classList.remove("is-missing");
      sizeGroup.classList.remove("is-missing");
      removeButton.hidden = !row.kind.value && !row.size.value;
      kindGroup.disabled = false;
      sizeGroup.disabled = false;
      sheet.hidden = false;
      card.scrollTop = 0;
      document.documentElement.classList.add("damage-sheet-open");
      if (row.region) row.region.classList.add("is-editing");
      firstOf(kindInputs).focus();
    }

    function close(restoreFocus) {
      if (!current) return;
      if (current.region) current.region.classList.remove("is-editing");
      sheet.hidden = true;
      // Disabled radios are never posted with the page's form.
      kindGroup.disabled = true;
      sizeGroup.disabled = true;
      document.documentElement.classList.remove("damage-sheet-open");
      var back = opener;
      if (!back || !back.isConnected || (back.closest && back.closest("[hidden]"))) {
        back = diagram.hidden ? current.kind : current.region;
      }
      current = null;
      opener = null;
      if (restoreFocus !== false && back && back.focus) back.focus();
    }

    function done() {
      var kind = checked(kindInputs);
      var size = kind === WORST_KIND ? "" : checked(sizeInputs);
      if (!kind || (!size && kind !== WORST_KIND)) {
        hint.hidden = false;
        kindGroup.classList.toggle("is-missing", !kind);
        sizeGroup.classList.toggle("is-missing", !size);
        firstOf(kind ? sizeInputs : kindInputs).focus();
        return;
      }
      write(current, kind, size);
      close();
    }

    function remove(row) {
      write(row, "", "");
    }

    // Taps and keys on the drawing.
    diagram.addEventListener("click", function (event) {
      var region = event.target.closest && event.target.closest(".part");
      if (region && rows[region.dataset.part]) open(region.dataset.part, region);
    });
    diagram.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" && event.key !== " ") return;
      var region = event.target.closest && event.target.closest(".part");
      if (!region || !rows[region.dataset.part]) return;
      event.preventDefault();  // Space would scroll the page
      open(region.dataset.part, region);
    });

    // The sheet.
    sheet.addEventListener("click", function (event) {
      if (event.target === sheet) {  // the dimmed backdrop
        close();
        return;
      }
      var button = event.target.closest("[data-action]");
      if (!button || !current) return;
      var action = button.dataset.action;
      if (action === "done") done();
      else if (action === "cancel") close();
      else if (action === "remove") { remove(current); close(); }
    });
    // The radios only prepare a choice; the form must not recompute on each of them.
    sheet.addEventListener("change", function (event) {
      event.stopPropagation();
      if (event.target.name === "damage_sheet_kind") sizeFollowsKind();
      hint.hidden = true;
      kindGroup.classList.remove("is-missing");
      sizeGroup.classList.remove("is-missing");
    });
    sheet.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      } else if (event.key === "Enter" && event.target.type === "radio") {
        // Enter on a radio would submit the page's form; here it means "done".
        event.preventDefault();
        done();
      } else if (event.key === "Tab") {
        var stops = tabbables();
        var first = stops[0];
        var last = stops[stops.length - 1];
        var active = document.activeElement;
        if (event.shiftKey && (active === first || !sheet.contains(active))) {
          event.preventDefault();
          last.focus();
        } else if (!event.shiftKey && (active === last || !sheet.contains(active))) {
          event.preventDefault();
          first.focus();
        }
      }
    });

    // The summary under the drawing.
    summary.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      var item = button && button.closest(".damage-summary-item");
      var row = item && rows[item.dataset.part];
      if (!row) return;
      if (button.dataset.action === "edit") {
        open(row.code, button);
      } else if (button.dataset.action === "remove") {
        remove(row);
        if (row.region) row.region.focus();
      }
    });

    // Someone who prefers the list edits the selects directly; the drawing follows.
    list.addEventListener("change", function (event) {
      var fieldset = event.target.closest(".damage-row");
      var row = fieldset && rows[fieldset.dataset.part];
      if (row) refresh(row);
    });

    function showList(asList) {
      diagram.hidden = asList;
      summary.hidden = asList;
      list.hidden = !asList;
      if (toggle) toggle.textContent = asList ? gettext("Показать схему") : gettext("Показать списком");
    }

    if (toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var asList = list.hidden;
        showList(asList);
        saveView(asList ? "list" : "diagram");
      });
    }

    order.forEach(function (code) { refresh(rows[code]); });
    showList(savedView() === "list");
    // A picker swapped in while a sheet was open must not leave the page unscrollable.
    if (!document.querySelector(".damage-sheet:not([hidden])")) {
      document.documentElement.classList.remove("damage-sheet-open");
    }
  }

  function setupWithin(node) {
    if (!node || !node.querySelectorAll) return;
    if (node.matches && node.matches(".damage-picker")) setup(node);
    node.querySelectorAll(".damage-picker").forEach(setup);
  }

  setupWithin(document);
  // Pickers that htmx swaps in later (a round trip of the calculator form).
  document.addEventListener("htmx:load", function (event) { setupWithin(event.target); });
})();
