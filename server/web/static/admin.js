// The staff form: show only the organisation select that fits the chosen role (the server
// checks the pairing anyway), and the supervisor box only for operators.
(function () {
  "use strict";
  function update(role) {
    document.querySelectorAll(".org-select").forEach(function (label) {
      var roles = (label.getAttribute("data-roles") || "").trim().split(/\s+/);
      label.hidden = roles.indexOf(role.value) < 0;
    });
  }
  function start() {
    var role = document.getElementById("role");
    if (!role || !document.getElementById("staff-form")) return;
    update(role);
    role.addEventListener("change", function () { update(role); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
