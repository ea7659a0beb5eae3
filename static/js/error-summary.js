// A form sent back with errors: bring its summary into view and give it the focus, so the
// driver (and a screen reader) starts from the list of what to fix, not from the page top.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (!summary) return;
  summary.scrollIntoView({ block: "start", behavior: "instant" });
  summary.focus({ preventScroll: true });
  summary.addEventListener("click", function (e) {
    var link = e.target.closest("a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    e.preventDefault();
    field.scrollIntoView({ block: "center", behavior: "instant" });
    field.focus({ preventScroll: true });
  });
})();
