// The name card of a face in topic lists shows on hover and focus (CSS); Escape hides it again
// without moving the pointer or the focus (WCAG 1.4.13, content on hover or focus).
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll(".poster:hover, .poster:focus").forEach(function (poster) {
      poster.classList.add("is-dismissed");
    });
  });
  function reset(event) {
    var poster = event.target.closest && event.target.closest(".poster");
    // Leaving the face (not moving between its picture and its card) ends the dismissal.
    if (poster && !(event.relatedTarget && poster.contains(event.relatedTarget))) {
      poster.classList.remove("is-dismissed");
    }
  }
  document.addEventListener("mouseout", reset);
  document.addEventListener("focusout", reset);
})();
