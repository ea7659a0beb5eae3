// The advisor's board: drag a visit onto another time, day or post. The drop is posted to
// the visit's move address (the same form and rules as the visit's page); on success the
// page reloads with the visit in its new place, on a refusal the server's reason is shown
// and the visit stays where it was. Without JavaScript or a mouse, the card is a link to
// the visit's page with the move form.
(function () {
  "use strict";
  var board = document.querySelector(".booking-board");
  if (!board) return;
  var status = document.getElementById("board-status");
  var dragged = null;

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function say(text) {
    status.textContent = text;
    status.classList.remove("d-none");
    status.focus();
  }

  function clearTargets() {
    board.querySelectorAll(".board-cell.drop-target").forEach(function (cell) {
      cell.classList.remove("drop-target");
    });
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".booking-card");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.booking);
  });

  board.addEventListener("dragend", function () {
    board.querySelectorAll(".booking-card.dragging").forEach(function (card) {
      card.classList.remove("dragging");
    });
    clearTargets();
  });

  board.addEventListener("dragover", function (event) {
    var cell = event.target.closest && event.target.closest(".board-cell");
    if (!cell || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("drop-target")) {
      clearTargets();
      cell.classList.add("drop-target");
    }
  });

  board.addEventListener("drop", function (event) {
    var cell = event.target.closest && event.target.closest(".board-cell");
    if (!cell || !dragged) return;
    event.preventDefault();
    clearTargets();
    var card = dragged;
    dragged = null;
    var body = new URLSearchParams();
    body.set("day", cell.dataset.day);
    body.set("time", cell.dataset.time || card.dataset.time);
    body.set("post", cell.dataset.post);
    card.classList.add("opacity-50");
    status.classList.add("d-none");
    fetch(card.dataset.moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
      body: body,
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok && data.ok, data: data };
        });
      })
      .then(function (answer) {
        if (answer.ok) {
          window.location.reload();
          return;
        }
        card.classList.remove("opacity-50");
        card.classList.add("border-danger");
        say(answer.data.error);
      })
      .catch(function () {
        card.classList.remove("opacity-50");
        say(board.dataset.networkError);
      });
  });
})();
