// Live inbox and lead page. The shop's event stream (Server-Sent Events from the events
// process) only says "lead 42 changed"; the page then fetches what changed through the usual
// permission-checked views: new rows through the inbox's poll endpoint (newest=…), a changed
// row through its row view, the lead page's status and timeline through its live view.
// While the stream is open the 10-second polling pauses; without a stream (no URL on the
// page, refused, or down) the page keeps polling, and retries the stream every 30 s.
(function () {
  "use strict";
  var main = document.getElementById("staff-main");
  var streamUrl = main && main.dataset.pushUrl;
  if (!streamUrl || !window.EventSource || !window.htmx) return;

  var rows = document.getElementById("lead-rows");
  var leadStatus = document.getElementById("lead-status");
  var live = false;
  var opened = false;

  function setState(state) { document.body.dataset.push = state; }
  setState("connecting");

  // The inbox's own polling stands down while the stream is live.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (live && event.detail.elt && event.detail.elt.id === "inbox-poller") event.preventDefault();
  });

  // A poll already under way when the stream opened may bring a row the stream's fetch
  // brings too: a lead is shown once.
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!rows) return;
    var seen = {};
    rows.querySelectorAll("tr[data-lead-id]").forEach(function (row) {
      if (seen[row.dataset.leadId]) row.remove();
      else seen[row.dataset.leadId] = true;
    });
  });

  // New leads: one request at a time through the poll endpoint, with the newest cursor the
  // last answer left on the page, so a burst of events fetches each lead exactly once.
  var fetchingNew = false;
  var fetchAgain = false;
  function fetchNew() {
    var poller = document.getElementById("inbox-poller");
    if (!poller || !rows) return;
    if (fetchingNew) { fetchAgain = true; return; }
    fetchingNew = true;
    var done = function () {
      fetchingNew = false;
      if (fetchAgain) { fetchAgain = false; fetchNew(); }
    };
    htmx.ajax("GET", poller.getAttribute("hx-get"), {
      source: rows, target: rows, swap: "afterbegin"
    }).then(done, done);
  }

  // A row that is on the page and changed (status, assignee, an accepted offer).
  var pending = {};
  var flushTimer = null;
  function refreshRow(leadId) {
    if (!rows || !rows.querySelector('tr[data-lead-id="' + leadId + '"]')) return;
    pending[leadId] = true;
    if (!flushTimer) flushTimer = setTimeout(flushRows, 50);
  }
  function flushRows() {
    flushTimer = null;
    var ids = Object.keys(pending);
    pending = {};
    ids.forEach(function (leadId) {
      var url = rows.dataset.rowUrl.replace("/0/", "/" + leadId + "/");
      fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (answer) { return answer.ok ? answer.text() : ""; })
        .then(function (html) {
          if (!html) return;
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var fresh = holder.content.querySelector("tr[data-lead-id]");
          var old = rows.querySelector('tr[data-lead-id="' + leadId + '"]');
          if (fresh && old) old.replaceWith(fresh);
        })
        .catch(function () { /* the next event or poll brings it */ });
    });
  }

  // After the stream was down a while, the first page is fetched again in one request:
  // changes to rows that happened meanwhile were told to nobody.
  function reloadFirstPage() {
    if (!rows || !document.getElementById("inbox-poller")) return;
    // More pages loaded by hand stay as they are (a refetch would drop them).
    if (rows.querySelectorAll("tr[data-lead-id]").length > 50) return;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["lead-rows", "inbox-poller", "unread-count"].forEach(function (id) {
          var fresh = doc.getElementById(id);
          var old = document.getElementById(id);
          if (fresh && old) { old.replaceWith(fresh); htmx.process(fresh); }
        });
        rows = document.getElementById("lead-rows");
      })
      .catch(function () {});
  }

  // The lead page: its status badge and timeline.
  var fetchingLead = false;
  var leadAgain = false;
  function refreshLead() {
    if (!leadStatus) return;
    if (fetchingLead) { leadAgain = true; return; }
    fetchingLead = true;
    fetch(leadStatus.dataset.liveUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (answer) { return answer.ok ? answer.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var holder = document.createElement("template");
        holder.innerHTML = html;
        ["lead-status", "lead-timeline"].forEach(function (id) {
          var fresh = holder.content.getElementById(id);
          var old = document.getElementById(id);
          if (fresh && old) old.replaceWith(fresh);
        });
        leadStatus = document.getElementById("lead-status");
      })
      .catch(function () {})
      .then(function () {
        fetchingLead = false;
        if (leadAgain) { leadAgain = false; refreshLead(); }
      });
  }

  function handle(event) {
    var hint;
    try { hint = JSON.parse(event.data); } catch (e) { return; }
    if (hint.type === "lead.created") fetchNew();
    else if (hint.lead) refreshRow(String(hint.lead));
    if (leadStatus && hint.lead && String(hint.lead) === leadStatus.dataset.leadId) refreshLead();
  }

  var source = null;
  function connect() {
    source = new EventSource(streamUrl, { withCredentials: true });
    source.onopen = function () {
      var reconnected = opened;
      opened = true;
      live = true;
      setState("live");
      // Whatever happened before the stream was open is fetched now: nothing is missed.
      fetchNew();
      if (reconnected) reloadFirstPage();
      refreshLead();
    };
    source.onmessage = handle;
    source.onerror = function () {
      live = false;
      setState("polling");
      if (source.readyState === EventSource.CLOSED) {
        // Refused (no events process, 204/403/429/503): poll, and try again later.
        source = null;
        setTimeout(connect, 30000);
      }
    };
  }
  window.addEventListener("pagehide", function () { if (source) source.close(); });
  connect();
})();
