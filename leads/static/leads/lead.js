// Full-screen photo viewer: opens at the tapped photo and loads full images only when shown.
(function () {
  "use strict";
  var viewer = document.getElementById("photo-viewer");
  var carouselEl = document.getElementById("photo-carousel");
  if (!viewer || !carouselEl || !window.bootstrap) return;
  function load(item) {
    var img = item && item.querySelector("img[data-src]");
    if (img && !img.src) img.src = img.dataset.src;
  }
  viewer.addEventListener("show.bs.modal", function (event) {
    var index = Number((event.relatedTarget && event.relatedTarget.dataset.index) || 0);
    var items = carouselEl.querySelectorAll(".carousel-item");
    items.forEach(function (item, i) { item.classList.toggle("active", i === index); });
    load(items[index]);
    load(items[index + 1]);
  });
  carouselEl.addEventListener("slide.bs.carousel", function (event) {
    load(event.relatedTarget);
    load(event.relatedTarget.nextElementSibling);
  });
  document.addEventListener("keydown", function (event) {
    if (!viewer.classList.contains("show")) return;
    var carousel = bootstrap.Carousel.getOrCreateInstance(carouselEl);
    if (event.key === "ArrowLeft") carousel.prev();
    if (event.key === "ArrowRight") carousel.next();
  });
})();
