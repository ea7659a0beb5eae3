// The inbox refreshes itself (htmx polling); when new leads arrive the tab title shows
// the unread count and a short tone plays, so an advisor on another tab notices.
(function () {
  "use strict";
  var baseTitle = document.title.replace(/^\(\d+\)\s*/, "");
  var audio = null;

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.4);
    } catch (e) { /* sound is a courtesy; the badge and the row still show */ }
  }

  function setTitle(unread) {
    document.title = (unread > 0 ? "(" + unread + ") " : "") + baseTitle;
  }

  document.body.addEventListener("htmx:afterSettle", function () {
    var poller = document.getElementById("inbox-poller");
    var badge = document.getElementById("unread-count");
    if (badge && badge.dataset.unread !== undefined) setTitle(Number(badge.dataset.unread));
    if (poller && Number(poller.dataset.new || 0) > 0) {
      poller.dataset.new = "0";
      beep();
      document.body.dataset.newLeads = String(Number(document.body.dataset.newLeads || 0) + 1);
    }
  });
  // Browsers allow sound only after a user gesture: unlock it on the first click.
  document.addEventListener("click", function () {
    if (!audio) { try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) {} }
  }, { once: true });
})();
