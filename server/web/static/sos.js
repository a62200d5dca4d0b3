// SOS board: an audible alarm (WebAudio, no sound file) while any alert is unacknowledged,
// and at once when a new alert arrives on the page's socket (live.js `anxin:message`).
// `document.body.dataset.sosSounds` counts alarms actually played (tests read it).
(function () {
  "use strict";
  if (window.anxinSos) return;
  var repeat = null;
  var state = { sounds: 0, lastKey: null, blocked: 0 };
  window.anxinSos = state;

  function alarm() {
    var ac = window.anxinAudio();
    if (!ac) return;
    if (ac.state !== "running") {
      state.blocked += 1;  // autoplay policy: needs a click first
      document.body.dataset.sosBlocked = String(state.blocked);
      return;
    }
    var t = ac.currentTime;
    for (var i = 0; i < 3; i++) {  // three two-tone beeps, ~1.2 s
      var osc = ac.createOscillator(), gain = ac.createGain();
      osc.type = "square";
      osc.frequency.setValueAtTime(880, t + i * 0.4);
      osc.frequency.setValueAtTime(660, t + i * 0.4 + 0.15);
      gain.gain.setValueAtTime(0.2, t + i * 0.4);
      gain.gain.setValueAtTime(0, t + i * 0.4 + 0.3);
      osc.connect(gain).connect(ac.destination);
      osc.start(t + i * 0.4);
      osc.stop(t + i * 0.4 + 0.3);
    }
    state.sounds += 1;
    document.body.dataset.sosSounds = String(state.sounds);
  }

  function unanswered() {
    var board = document.getElementById("sos-board");
    return board ? Number(board.dataset.unanswered || 0) : 0;
  }

  function keepRinging() {
    clearInterval(repeat);
    repeat = null;
    if (unanswered() > 0) repeat = setInterval(function () {
      if (unanswered() > 0) alarm(); else { clearInterval(repeat); repeat = null; }
    }, 5000);
  }

  document.addEventListener("anxin:message", function (event) {
    var msg = event.detail;
    if (msg.type !== "sos_alert") return;
    document.body.dataset.sosLastAlert = String(msg.alert_id);
    document.body.dataset.sosLastKey = msg.key;
    if (msg.status === "open") alarm();
  });
  document.addEventListener("anxin:changed", keepRinging);
  if (unanswered() > 0) alarm();
  keepRinging();
})();
