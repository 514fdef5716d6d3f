// Loads Bootstrap Italia's fonts from this server (no CDN) and wires small behaviours without inline scripts.
(function () {
  "use strict";
  var root = document.documentElement;
  if (window.bootstrap && typeof window.bootstrap.loadFonts === "function") {
    window.bootstrap.loadFonts(root.getAttribute("data-fonts-path"));
  }
  // Buttons that ask for confirmation before submitting their form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // The competence text of an area is asked only for the areas ticked (all shown without JavaScript).
  document.querySelectorAll(".area-choice").forEach(function (choice) {
    var box = choice.querySelector("input[type=checkbox]");
    var group = choice.querySelector(".competence-group");
    if (!box || !group) { return; }
    var sync = function () {
      group.hidden = !box.checked;
      box.setAttribute("aria-expanded", box.checked ? "true" : "false");
    };
    box.addEventListener("change", sync);
    sync();
  });
})();
