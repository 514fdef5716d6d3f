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
  // Signing out forgets the register pages the phone kept for use offline (the marks still to send stay queued
  // and go once someone signs in again on this phone).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !/\/esci$/.test(form.getAttribute("action") || "")) { return; }
    if (navigator.serviceWorker && navigator.serviceWorker.getRegistration) {
      navigator.serviceWorker.getRegistration("/presenze").then(function (registration) {
        if (registration && registration.active) { registration.active.postMessage({ type: "forget" }); }
      });
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
  // A table wider than its box (a phone) scrolls sideways inside it: while it does not fit, the box is marked
  // (a shadow on the side that hides columns, see app.css) and a line above it says to scroll.
  var hintSource = document.querySelector("[data-table-scroll-hint]");
  var hintText = hintSource ? hintSource.getAttribute("data-table-scroll-hint") : "";
  document.querySelectorAll(".table-responsive").forEach(function (box) {
    var hint = null;
    if (hintText) {
      hint = document.createElement("p");
      hint.className = "table-scroll-hint";
      hint.setAttribute("aria-hidden", "true"); // the box itself is announced as a scrollable table
      hint.textContent = hintText;
      hint.hidden = true;
      box.parentNode.insertBefore(hint, box);
    }
    var update = function () {
      var hidden = box.scrollWidth - box.clientWidth;
      var overflowing = hidden > 1;
      var left = Math.abs(box.scrollLeft);
      box.classList.toggle("is-overflowing", overflowing);
      box.classList.toggle("has-more-start", overflowing && left > 1);
      box.classList.toggle("has-more-end", overflowing && left < hidden - 1);
      if (hint) { hint.hidden = !overflowing; }
    };
    box.addEventListener("scroll", update, { passive: true });
    if (typeof window.ResizeObserver === "function") {
      // the box's width (a rotated phone) and the table's (fonts loaded, a <details> opened) both count
      var observer = new window.ResizeObserver(update);
      observer.observe(box);
      if (box.firstElementChild) { observer.observe(box.firstElementChild); }
    } else {
      window.addEventListener("resize", update);
    }
    update();
  });
})();
