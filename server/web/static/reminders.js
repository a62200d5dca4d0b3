// Medicines section: live missed-dose alerts, and filling the plan form to edit a plan.
(function () {
  "use strict";
  if (window.anxinReminders) return;
  window.anxinReminders = true;

  // Outside the [data-live] region, so a live refresh does not wipe the alerts.
  function alertBox() {
    var box = document.getElementById("med-alerts");
    if (box) return box;
    box = document.createElement("div");
    box.id = "med-alerts";
    box.className = "med-alerts";
    box.setAttribute("role", "alert");
    var live = document.querySelector("[data-live]");
    live.parentNode.insertBefore(box, live);
    return box;
  }

  document.addEventListener("anxin:message", function (event) {
    var msg = event.detail;
    if (!msg || msg.type !== "dose_alert") return;
    var box = alertBox();
    if (!box) return;
    var p = document.createElement("p");
    p.className = "error dose-alert";
    p.dataset.planId = msg.plan_id;
    var at = new Date(msg.scheduled_at);
    p.textContent = (document.documentElement.lang === "en" ? "Missed dose: " : "未按时服药：") +
      msg.elder_name + " · " + msg.medicine + " · " + at.toLocaleString();
    box.appendChild(p);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".med-edit");
    if (!button) return;
    var plan = JSON.parse(button.closest("[data-plan]").dataset.plan);
    var form = document.getElementById("med-form-" + button.dataset.elderId);
    if (!form) return;
    var s = plan.schedule;
    form.plan_id.value = plan.id;
    ["medicine", "strength", "dose", "instructions", "appearance", "colour", "window_minutes"]
      .forEach(function (name) { form[name].value = plan[name]; });
    form.times.value = (s.times || []).map(function (t) { return t.slice(0, 5); }).join(", ");
    form.every_n_days.value = s.every_n_days;
    form.start_date.value = s.start_date;
    form.end_date.value = s.end_date || "";
    form.as_needed.checked = !!s.as_needed;
    form.querySelectorAll("input[name=days]").forEach(function (box) {
      box.checked = !!(s.days_of_week && s.days_of_week.indexOf(Number(box.value)) >= 0);
    });
    // The form sits in closed panels on the family home: open them to show it.
    for (var d = form.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
    form.scrollIntoView();
    form.medicine.focus();
  });
})();
