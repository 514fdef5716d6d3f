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
})();
