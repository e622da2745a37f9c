// flask-pco admin page: where keyboard focus and the eye go after htmx swaps an answer in.
// The page works without this file; it only spares keyboard and phone users a trip back
// from the top of the page.
(function () {
  "use strict";

  // An action's answer names (HX-Trigger-After-Settle: {"pco-focus": "#id"}) the element
  // focus moves to: the progress card after a start, the section a resolved item was in.
  // focus() also scrolls it into view, so on a phone the card is on screen after a tap.
  document.body.addEventListener("pco-focus", function (event) {
    var target = document.querySelector(event.detail && event.detail.value);
    if (target) {
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "start", behavior: "instant" });
    }
  });

  // A notice can be dismissed; a new one replaces it anyway.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-pco-dismiss]");
    if (button) {
      var notice = button.closest(".pco-notice");
      if (notice) notice.remove();
    }
  });
})();
