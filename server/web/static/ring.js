// The elder is calling from the TV: a large banner with Answer and Decline and a ring tone
// (WebAudio, no sound file) on the family page and the call page. Messages arrive on
// live.js's socket (`anxin:message`); a call already ringing when the page loaded is read
// from [data-ringing-call] in the page. Answer opens the call page, which answers the call
// on its own socket (calls.js, `?answer=`). Counters for tests live on window.anxinRing.
(function () {
  "use strict";
  var banner = document.getElementById("incoming-call");
  if (!banner || window.anxinRing) return;
  var text = banner.dataset;
  var state = window.anxinRing = { ringing: null, rings: 0, blocked: 0, shown: 0, outcome: null };
  var done = {};  // call ids answered, declined or ended here: never shown again
  var ringTimer = null, hideTimer = null, giveUpTimer = null;
  var $ = function (id) { return document.getElementById(id); };

  function ringOnce() {
    var ac = window.anxinAudio();
    if (!ac || ac.state !== "running") { state.blocked += 1; return; }  // autoplay policy
    var t = ac.currentTime;
    for (var i = 0; i < 2; i++) {  // a phone's double ring, ~1 s
      var osc = ac.createOscillator(), gain = ac.createGain();
      osc.type = "sine";
      osc.frequency.setValueAtTime(480, t + i * 0.5);
      osc.frequency.setValueAtTime(620, t + i * 0.5 + 0.2);
      gain.gain.setValueAtTime(0.25, t + i * 0.5);
      gain.gain.setValueAtTime(0, t + i * 0.5 + 0.4);
      osc.connect(gain).connect(ac.destination);
      osc.start(t + i * 0.5);
      osc.stop(t + i * 0.5 + 0.4);
    }
    state.rings += 1;
  }

  function answering() {
    // The call page opened by Answer is taking this call: no banner for it there.
    var root = document.getElementById("anxin-call");
    return root && root.dataset.answer ? Number(root.dataset.answer) : null;
  }

  function show(call) {
    if (done[call.call_id] || answering() === call.call_id) return;
    if (state.ringing && state.ringing.call_id === call.call_id) return;
    clearTimeout(hideTimer);
    state.ringing = call; state.shown += 1; state.outcome = null;
    $("incoming-title").textContent = text.textTitle.replace("{name}", call.elder_name);
    $("incoming-status").textContent = "";
    $("incoming-answer").disabled = false; $("incoming-decline").disabled = false;
    banner.hidden = false;
    clearInterval(ringTimer);
    ringOnce();
    ringTimer = setInterval(ringOnce, 3000);
    // The server ends the call at its ring timeout; stop ringing even if that push is lost.
    clearTimeout(giveUpTimer);
    giveUpTimer = setTimeout(function () { stop(call.call_id, text.textEnded); },
                             ((call.timeout_s || 45) + 5) * 1000);
  }

  function ended(msg) {
    var call = state.ringing;
    if (msg.reason === "unanswered" && call && call.call_id === msg.call_id) {
      return text.textMissed.replace("{name}", call.elder_name);
    }
    return text.textEnded;
  }

  function stop(callId, words) {
    done[callId] = true;
    if (!state.ringing || state.ringing.call_id !== callId) return;
    clearInterval(ringTimer); ringTimer = null;
    clearTimeout(giveUpTimer); giveUpTimer = null;
    state.ringing = null; state.outcome = words || "";
    $("incoming-answer").disabled = true; $("incoming-decline").disabled = true;
    if (!words) { banner.hidden = true; return; }
    $("incoming-status").textContent = words;  // say why, then go away
    hideTimer = setTimeout(function () { banner.hidden = true; }, 4000);
  }

  $("incoming-answer").addEventListener("click", function () {
    var call = state.ringing;
    if (!call) return;
    stop(call.call_id, "");
    location.href = "/family/call/" + call.elder_id + "?answer=" + call.call_id;
  });
  $("incoming-decline").addEventListener("click", function () {
    var call = state.ringing;
    if (!call) return;
    if (window.anxinLive) window.anxinLive.send({ type: "call_decline", call_id: call.call_id });
    stop(call.call_id, "");
  });

  document.addEventListener("anxin:message", function (event) {
    var msg = event.detail;
    if (msg.type === "call_incoming") show(msg);
    else if (msg.type === "call_picked_up") stop(msg.call_id, text.textAnsweredBy.replace("{name}", msg.by));
    else if (msg.type === "call_ended") stop(msg.call_id, ended(msg));
  });

  function fromPage() {
    document.querySelectorAll("[data-ringing-call]").forEach(function (el) {
      show({ call_id: Number(el.dataset.ringingCall), elder_id: Number(el.dataset.elderId),
             elder_name: el.dataset.elderName, timeout_s: 45 });
    });
  }
  document.addEventListener("anxin:changed", fromPage);
  fromPage();
})();
