// Family home: its panels (<details>) stay as the person left them when a live update redraws
// the page, and a link to something inside a closed panel (#med-3, #sos-alert-9) opens it.
(function () {
  "use strict";
  var open = {};

  function remember(details) {
    if (details.id) open[details.id] = details.open;
  }

  // Every panel on the way to the element, so it can be seen.
  function reveal(el) {
    for (var d = el && el.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) {
      if (!d.open) d.open = true;
      remember(d);
    }
  }

  function revealHash() {
    if (location.hash.length < 2) return;
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target) return;
    reveal(target);
    target.scrollIntoView();
  }

  // A form's error is shown where the form is: its panel opens.
  function revealErrors() {
    document.querySelectorAll("details [role=alert]").forEach(reveal);
  }

  document.addEventListener("toggle", function (event) {
    if (event.target.tagName === "DETAILS") remember(event.target);
  }, true);

  document.addEventListener("anxin:changed", function () {
    Object.keys(open).forEach(function (id) {
      var d = document.getElementById(id);
      if (d && d.tagName === "DETAILS" && d.open !== open[id]) d.open = open[id];
    });
  });

  // A same-page link into a panel (a banner's "See on the map") opens that panel.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#']");
    if (!link) return;
    var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (target) reveal(target);
  });

  window.addEventListener("hashchange", revealHash);
  document.addEventListener("DOMContentLoaded", function () {
    revealErrors();
    revealHash();
  });
})();
