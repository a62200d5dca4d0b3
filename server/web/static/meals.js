// The Meals panel's inner panels (diet, meal point, standing orders) stay open across the
// page's live refreshes: which ones are open is remembered and put back after each redraw.
(function () {
  "use strict";
  var open = {};
  document.addEventListener("toggle", function (event) {
    var el = event.target;
    if (el.matches && el.matches("details.sub[id]")) open[el.id] = el.open;
  }, true);
  document.addEventListener("anxin:changed", function () {
    Object.keys(open).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && open[id] && !el.open) el.open = true;
    });
  });
})();

// The meal point's Print button (no inline handlers: the pages' CSP allows none).
document.addEventListener("click", function (event) {
  if (event.target && event.target.id === "print") window.print();
});
