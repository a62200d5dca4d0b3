// The day list's "Start video visit": asks the server to open the call for a video visit,
// then opens the call page it answers with. The button is in the live region, so listen on
// the document (a refresh replaces the buttons).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.video-start");
    if (!button) return;
    var status = document.getElementById("video-status");
    button.disabled = true;
    fetch("/api/appointments/" + button.dataset.visitId + "/video-call", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": meta ? meta.content : "" },
      body: "{}"
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        if (!answer.ok) throw new Error(answer.body.message || button.dataset.failed);
        var url = answer.body.url || answer.body.call_url;
        if (url) location.href = url;
      })
      .catch(function (err) { if (status) status.textContent = err.message || button.dataset.failed; })
      .then(function () { button.disabled = false; });
  });
})();
