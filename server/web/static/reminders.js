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
    // The words and the elder's zone come from the elder's medicines section.
    var section = document.getElementById("med-" + msg.elder_id);
    var at = new Date(msg.scheduled_at), shown;
    try {
      shown = at.toLocaleString(document.documentElement.lang || undefined,
        { timeZone: section ? section.dataset.zone : undefined, dateStyle: "short", timeStyle: "short" });
    } catch (e) { shown = at.toLocaleString(); }
    p.textContent = (section ? section.dataset.textMissed + " " : "") +
      msg.elder_name + " · " + msg.medicine + " · " + shown;
    box.appendChild(p);
  });

  // Times of day: one field each, added and removed with buttons (no comma lists to type).
  function renumber(list) {
    var add = list.parentNode.querySelector(".time-add");
    list.querySelectorAll("li.time-row").forEach(function (row, i) {
      row.querySelector("input").setAttribute("aria-label", add.dataset.label.replace("{n}", i + 1));
      row.querySelector(".time-remove").setAttribute("aria-label",
        add.dataset.removeLabel.replace("{n}", i + 1));
    });
  }

  function setTimes(form, times) {
    var list = form.querySelector("ul.time-list");
    var rows = list.querySelectorAll("li.time-row");
    var model = rows[0];
    for (var i = 1; i < rows.length; i++) list.removeChild(rows[i]);
    (times.length ? times : [""]).forEach(function (value, i) {
      var row = i === 0 ? model : list.appendChild(model.cloneNode(true));
      row.querySelector("input").value = value;
    });
    renumber(list);
  }

  function addTime(button) {
    var list = button.parentNode.querySelector("ul.time-list");
    var rows = list.querySelectorAll("li.time-row");
    var row = list.appendChild(rows[rows.length - 1].cloneNode(true));
    var input = row.querySelector("input");
    input.value = "";
    renumber(list);
    input.focus();
  }

  function removeTime(button) {
    var row = button.closest("li.time-row"), list = row.parentNode;
    if (list.querySelectorAll("li.time-row").length < 2) { row.querySelector("input").value = ""; return; }
    list.removeChild(row);
    renumber(list);
    list.querySelector("input").focus();
  }

  function setColour(form, colour) {
    var value = String(colour || "#ffffff").toLowerCase(), found = false;
    form.querySelectorAll("input[name=colour]").forEach(function (radio) {
      radio.checked = radio.value.toLowerCase() === value;
      found = found || radio.checked;
    });
    if (found) return;
    // A colour outside the swatches (set through the API): keep it as one more choice.
    var first = form.querySelector("input[name=colour]"), label = first.nextElementSibling;
    var radio = first.cloneNode(true), copy = label.cloneNode(true);
    radio.id = first.id + "-other"; radio.value = value; radio.checked = true;
    copy.setAttribute("for", radio.id);
    copy.querySelector("circle").setAttribute("fill", value);
    label.parentNode.appendChild(radio); label.parentNode.appendChild(copy);
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest(".time-add, .time-remove");
    if (!target) return;
    if (target.classList.contains("time-add")) addTime(target); else removeTime(target);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".med-edit");
    if (!button) return;
    var plan = JSON.parse(button.closest("[data-plan]").dataset.plan);
    var form = document.getElementById("med-form-" + button.dataset.elderId);
    if (!form) return;
    var s = plan.schedule;
    form.plan_id.value = plan.id;
    ["medicine", "strength", "dose", "instructions", "appearance", "window_minutes"]
      .forEach(function (name) { form[name].value = plan[name]; });
    setColour(form, plan.colour);
    setTimes(form, (s.times || []).map(function (t) { return t.slice(0, 5); }));
    form.every_n_days.value = s.every_n_days;
    form.start_date.value = s.start_date;
    form.end_date.value = s.end_date || "";
    form.as_needed.checked = !!s.as_needed;
    form.querySelectorAll("input[name=days]").forEach(function (box) {  // no days: every day
      box.checked = !s.days_of_week || s.days_of_week.indexOf(Number(box.value)) >= 0;
    });
    // The form sits in closed panels on the family home: open them to show it.
    for (var d = form.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
    form.scrollIntoView();
    form.medicine.focus();
  });
})();
