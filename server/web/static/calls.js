// Video calls in the browser: the doctor's live consult queue, the doctor's side of a booked
// video visit (the page rings the elder's TV itself once its socket is up, so the TV's answer
// reaches this page), and the family's call page.
// Own WebSocket to /ws/web (protocol messages). The page is always the offerer; SDP is sent
// only after ICE gathering completes (aiortc on the box does not trickle). iceServers come
// from the server's call_start. Counters for tests and the benchmark live on window.anxinCall.
(function () {
  "use strict";
  var root = document.getElementById("anxin-call");
  if (!root) return;
  var page = root.dataset.page;
  var text = root.dataset;
  var $ = function (id) { return document.getElementById(id); };
  var state = window.anxinCall = {
    state: "idle", callId: null, elderId: null, framesDecoded: 0, framesSent: 0,
    joinClickedAt: null, firstFrameAt: null, joinToFirstFrameMs: null, ended: null,
    errors: [], queue: [], socketReady: false, notesSaved: 0, history: [], lostWhy: null,
    visitRings: 0
  };
  var visitId = root.dataset.visitId ? Number(root.dataset.visitId) : null;
  var DISCONNECT_GRACE_MS = 10000, ANSWER_TIMEOUT_MS = 20000;
  var socket = null, pc = null, localStream = null, statsTimer = null, lostTimer = null, answerTimer = null;
  var pendingJoin = null, seq = 0;

  function send(msg) {
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(msg));
    return true;
  }

  function status(words) {
    var el = $("call-status");
    if (el) el.textContent = words;
  }

  function showError(words) {
    var el = $("queue-error");
    if (!el) return;
    el.textContent = words;
    el.hidden = !words;
    if (words) offerStart();
  }

  // A page that rang at once (?start=1) shows its call button only to try again.
  function offerStart() {
    var button = $("start-call");
    if (button) button.hidden = false;
  }

  // -- queue (doctor) --------------------------------------------------------

  function minutesSince(iso) {
    return Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
  }

  function renderQueue() {
    var body = $("queue-rows");
    if (!body) return;
    body.textContent = "";
    if (!state.queue.length) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 6; td.className = "empty"; td.textContent = text.textEmpty;
      tr.appendChild(td); body.appendChild(tr);
      return;
    }
    state.queue.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.id = "queue-" + e.call_id;
      [e.elder_name, minutesSince(e.requested_at) + " " + text.textMin, e.age == null ? "" : String(e.age),
       words("textLang", e.lang), e.summary].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      var td = document.createElement("td");
      var b = document.createElement("button");
      b.type = "button"; b.textContent = text.textJoin; b.id = "join-" + e.call_id;
      b.className = "join"; b.disabled = state.state !== "idle" && state.state !== "ended";
      b.addEventListener("click", function () { join(e); });
      td.appendChild(b); tr.appendChild(td); body.appendChild(tr);
    });
  }

  function join(entry) {
    showError("");
    state.joinClickedAt = performance.now(); state.joinClickedEpoch = Date.now();
    state.firstFrameAt = null; state.joinToFirstFrameMs = null;
    state.framesDecoded = 0; state.ended = null;
    pendingJoin = { id: "join-" + (++seq), callId: entry.call_id, entry: entry };
    state.state = "joining";
    send({ type: "call_join", call_id: entry.call_id, id: pendingJoin.id });
  }

  // -- record beside the video (doctor) ---------------------------------------

  // "2026-02-01 10:00" in the clinic's zone (the page's data-zone), as the server's pages say it.
  function clinicTime(iso) {
    var at = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
    try {
      var parts = {};
      new Intl.DateTimeFormat("en-CA", { timeZone: root.dataset.zone || "Asia/Shanghai", hourCycle: "h23",
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
        .formatToParts(at).forEach(function (p) { parts[p.type] = p.value; });
      return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
    } catch (e) {
      return iso.slice(0, 16).replace("T", " ");
    }
  }

  function loadRecord(elderId, name) {
    var rec = $("record");
    if (!rec) return;
    rec.hidden = false;
    $("record-name").textContent = name;
    var link = $("record-link");
    if (link) link.href = "/doctor/elders/" + Number(elderId);
    $("consult-notes").value = ""; $("consult-outcome").value = ""; $("notes-saved").textContent = "";
    fetch("/api/elders/" + elderId, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (e) { $("record-notes").textContent = e.care_notes || ""; });
    // Medication plans and the last week's adherence (the reminders feature's API).
    fetch("/api/elders/" + elderId + "/medication-plans", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (plans) {
        var ul = $("record-plans"); if (!ul) return; ul.textContent = "";
        plans.filter(function (p) { return p.status === "active"; }).forEach(function (p) {
          var li = document.createElement("li");
          li.textContent = p.medicine + " " + p.strength + " — " + p.dose + " @ " +
            (p.schedule.times || []).map(function (t) { return t.slice(0, 5); }).join(", ");
          ul.appendChild(li);
        });
      });
    fetch("/api/elders/" + elderId + "/adherence?days=7", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (days) {
        var el = $("record-adherence"); if (!el) return;
        var due = 0, taken = 0;
        days.forEach(function (d) { due += d.due; taken += d.taken; });
        el.textContent = due ? taken + " / " + due + " (" + Math.round(100 * taken / due) + "%)" : "—";
      });
    fetch("/api/elders/" + elderId + "/calls", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (calls) {
        var ul = $("record-past"); ul.textContent = "";
        calls.filter(function (c) { return c.kind === "consult" && c.id !== state.callId && c.answered_at; })
          .forEach(function (c) {
            var li = document.createElement("li");
            li.textContent = clinicTime(c.requested_at) + " — " +
              (c.outcome || (c.end_reason ? words("textEnd", c.end_reason) : "")) + (c.notes ? ": " + c.notes : "");
            ul.appendChild(li);
          });
      });
  }

  function saveNotes() {
    if (state.callId == null) return;
    send({ type: "consult_notes", call_id: state.callId, notes: $("consult-notes").value,
           outcome: $("consult-outcome").value, id: "notes-" + (++seq) });
    state.notesSaved += 1;
    $("notes-saved").textContent = text.textSaved;
  }

  // -- the call itself ------------------------------------------------------------

  function waitForGathering(conn) {
    if (conn.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(function (resolve) {
      conn.addEventListener("icegatheringstatechange", function check() {
        if (conn.iceGatheringState === "complete") {
          conn.removeEventListener("icegatheringstatechange", check);
          resolve();
        }
      });
    });
  }

  // The camera is opened once and kept for the next calls: a doctor takes call after call,
  // and opening it again on every Join would add its start-up time to each call.
  var cameraPromise = null;
  function camera() {
    if (!cameraPromise) {
      cameraPromise = navigator.mediaDevices.getUserMedia({ video: true, audio: true })
        .then(function (stream) { localStream = stream; return stream; })
        .catch(function () { showError(text.textNoCamera); cameraPromise = null; return null; });
    }
    return cameraPromise;
  }

  function videos(shown) {
    var box = document.querySelector(".call-videos");
    if (box) box.hidden = !shown;
  }

  function startCall(msg) {
    videos(true);
    state.callId = msg.call_id; state.elderId = msg.elder_id;
    state.state = "connecting"; status(text.textConnecting);
    $("call-panel").hidden = false;
    if (page === "doctor") loadRecord(msg.elder_id, msg.peer_name);
    renderQueue();
    pc = new RTCPeerConnection({
      iceServers: msg.ice_servers || [], iceTransportPolicy: msg.ice_transport_policy || "all"
    });
    var conn = pc;
    conn.ontrack = function (ev) {
      if (ev.track.kind !== "video") return;
      var video = $("remote-video");
      video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      if (video.requestVideoFrameCallback) {
        var onFrame = function () {
          if (state.firstFrameAt == null) {
            state.firstFrameAt = performance.now();
            if (state.joinClickedAt != null) state.joinToFirstFrameMs = state.firstFrameAt - state.joinClickedAt;
          }
          if (conn === pc) video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
      }
    };
    conn.oniceconnectionstatechange = function () {
      state.history.push(["ice", conn.iceConnectionState, Math.round(performance.now())]);
    };
    conn.onconnectionstatechange = function () {
      if (conn !== pc) return;
      var s = conn.connectionState;
      state.history.push(["pc", s, Math.round(performance.now())]);
      if (s === "connected") {
        clearTimeout(lostTimer); lostTimer = null;
        state.state = "connected"; status(text.textConnected);
      } else if (s === "failed") {
        lose("failed");
      } else if (s === "disconnected" && !lostTimer) {
        // The box (aiortc) cannot restart ICE: give a short drop a chance, then end cleanly.
        lostTimer = setTimeout(function () { lose("disconnected"); }, DISCONNECT_GRACE_MS);
      }
    };
    camera()
      .then(function (stream) {
        if (conn !== pc) return null;
        if (stream) {
          $("local-video").srcObject = stream;
          stream.getTracks().forEach(function (t) { conn.addTrack(t, stream); });
        } else {
          conn.addTransceiver("audio", { direction: "recvonly" });
          conn.addTransceiver("video", { direction: "recvonly" });
        }
        return conn.createOffer();
      })
      .then(function (offer) { return offer && conn.setLocalDescription(offer); })
      .then(function () { return conn === pc ? waitForGathering(conn) : null; })
      .then(function () {
        if (conn !== pc) return;
        send({ type: "call_offer", call_id: msg.call_id, sdp: conn.localDescription.sdp });
        // A box that went away never answers: end cleanly instead of waiting forever.
        answerTimer = setTimeout(function () {
          if (conn === pc && !conn.remoteDescription) lose("no answer");
        }, ANSWER_TIMEOUT_MS);
      })
      .catch(function (err) { state.errors.push(String(err)); lose("setup: " + err); });
    statsTimer = setInterval(function () { pollStats(conn); }, 250);
  }

  function pollStats(conn) {
    if (conn !== pc) return;
    conn.getStats().then(function (report) {
      report.forEach(function (s) {
        if (s.type === "inbound-rtp" && s.kind === "video" && s.framesDecoded != null) {
          state.framesDecoded = s.framesDecoded;
          if (s.framesDecoded > 0 && state.firstFrameAt == null) {
            state.firstFrameAt = performance.now();
            if (state.joinClickedAt != null) state.joinToFirstFrameMs = state.firstFrameAt - state.joinClickedAt;
          }
        }
        if (s.type === "outbound-rtp" && s.kind === "video" && s.framesEncoded != null) {
          state.framesSent = s.framesEncoded;
        }
      });
    });
  }

  function lose(why) {
    if (state.callId == null) return;
    state.lostWhy = why || "unknown";
    send({ type: "call_hang_up", call_id: state.callId, reason: "connection_lost" });
    finish("connection_lost");
  }

  function teardown() {
    clearInterval(statsTimer); statsTimer = null;
    clearTimeout(lostTimer); lostTimer = null;
    clearTimeout(answerTimer); answerTimer = null;
    if (pc) { var conn = pc; pc = null; pollFinal(conn); }
    if (localStream && page !== "doctor") {
      localStream.getTracks().forEach(function (t) { t.stop(); });
      localStream = null; cameraPromise = null;
    }
    var remote = $("remote-video");
    if (remote) remote.srcObject = null;
  }

  function pollFinal(conn) {
    try { conn.close(); } catch (e) { /* already closed */ }
  }

  // A code from the server ("hung_up", "zh") as the words the page was given for it.
  function words(prefix, code, fallback) {
    var key = prefix + String(code || "").split("_").map(function (part) {
      return part.charAt(0).toUpperCase() + part.slice(1);
    }).join("");
    return text[key] || fallback || "";
  }

  function finish(reason) {
    teardown();
    state.ended = reason; state.state = "ended"; state.callId = null;
    status(reason === "hung_up" && state.hungUpHere ? text.textEndHungUpHere
           : visitId && reason === "unanswered" ? text.textVisitUnanswered
           : words("textEnd", reason, text.textEnded));
    state.hungUpHere = false;
    offerStart();
    renderQueue();
  }

  function hangUp() {
    if (state.callId == null) return;
    state.hungUpHere = true;
    send({ type: "call_hang_up", call_id: state.callId });
    finish("hung_up");
  }

  // A booked video visit: ask the server to ring the elder's TV for this visit.
  function ringVisit() {
    showError("");
    var start = $("start-call");
    if (start) start.hidden = true;
    state.ended = null; state.framesDecoded = 0; state.firstFrameAt = null;
    state.joinClickedAt = performance.now(); state.state = "inviting"; state.visitRings += 1;
    videos(false);  // no black picture while the TV rings: only once the call starts
    var meta = document.querySelector('meta[name="csrf-token"]');
    fetch("/api/appointments/" + visitId + "/video-call", {
      method: "POST", credentials: "same-origin", body: "{}",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": meta ? meta.content : "" }
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        if (!answer.ok) throw new Error(answer.body.message || text.textVisitFailed);
        if (state.state !== "inviting") return;  // the socket's call_ringing came first
        state.callId = answer.body.call_id; state.state = "ringing";
        $("call-panel").hidden = false; status(text.textRinging);
      })
      .catch(function (err) {
        state.state = "idle"; state.errors.push(String(err));
        showError(err.message || text.textVisitFailed); offerStart();
      });
  }

  function invite() {
    showError("");
    state.ended = null; state.framesDecoded = 0; state.firstFrameAt = null;
    state.joinClickedAt = performance.now(); state.state = "inviting";
    // From an SOS alert the box answers by itself (honoured for operators and admins).
    send({ type: "call_invite", elder_id: Number(root.dataset.elderId), id: "invite-" + (++seq),
           auto_answer: Boolean(root.dataset.sos) });
  }

  function answer() {
    showError("");
    state.ended = null; state.framesDecoded = 0; state.firstFrameAt = null;
    state.joinClickedAt = performance.now(); state.state = "answering";
    state.callId = Number(root.dataset.answer);
    // A reload must not answer again (the call may be long over).
    history.replaceState(null, "", location.pathname);
    $("call-panel").hidden = false; status(text.textAnswering);
    send({ type: "call_accept", call_id: state.callId, id: "answer-" + (++seq) });
  }

  // -- socket ------------------------------------------------------------------------

  function onMessage(msg) {
    if (msg.type === "welcome") {
      state.socketReady = true;
      if (page === "doctor") { send({ type: "queue_subscribe" }); camera(); }
      // Opened from an SOS alert: ring the TV at once, no second click needed.
      if (root.dataset.sos && !state.sosRang) { state.sosRang = true; invite(); }
      // Opened from a "call" link of the family home (?start=1): ring the TV at once. A reload
      // must not ring again, so the address loses ?start.
      if (root.dataset.start && !state.startRang) {
        state.startRang = true;
        history.replaceState(null, "", location.pathname);
        invite();
      }
      // Opened by Answer on the elder's incoming call: take it on this socket.
      if (root.dataset.answer && !state.answerSent) { state.answerSent = true; answer(); }
      // The doctor's side of a video visit: ring the TV once this socket hears the answer. A
      // reload must not ring again by itself ("Ring again" does).
      if (visitId && root.dataset.ringNow && !state.visitRang) {
        state.visitRang = true;
        history.replaceState(null, "", location.pathname + "?rung=1");
        ringVisit();
      }
    } else if (msg.type === "consult_queue") {
      state.queue = msg.entries; renderQueue();
    } else if (msg.type === "error") {
      state.errors.push(msg.code);
      if (pendingJoin && msg.ref === pendingJoin.id) {
        pendingJoin = null; state.state = "idle";
        showError(msg.code === "conflict" ? text.textTaken : msg.message);
      } else if (msg.ref && msg.ref.indexOf("invite-") === 0) {
        state.state = "idle"; showError(msg.message);
      } else if (msg.ref && msg.ref.indexOf("answer-") === 0) {
        state.state = "idle"; state.callId = null; status("");
        showError(msg.code === "conflict" ? text.textAnsweredElsewhere : msg.message);
      }
    } else if (msg.type === "call_ringing") {
      if (state.state === "inviting") {
        state.callId = msg.call_id; state.state = "ringing";
        $("call-panel").hidden = false; status(text.textRinging);
      }
    } else if (msg.type === "call_start") {
      var mine = (pendingJoin && pendingJoin.callId === msg.call_id) ||
        ((page === "family" || visitId) && state.callId === msg.call_id);
      if (mine && msg.role === "offerer" && !pc) { pendingJoin = null; startCall(msg); }
    } else if (msg.type === "call_answer") {
      if (pc && msg.call_id === state.callId) {
        pc.setRemoteDescription({ type: "answer", sdp: msg.sdp })
          .catch(function (err) { state.errors.push(String(err)); lose("answer: " + err); });
      }
    } else if (msg.type === "call_ended") {
      if (msg.call_id === state.callId) finish(msg.reason);
    }
  }

  var delay = 500;
  function connect() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(proto + "//" + location.host + "/ws/web");
    socket.onopen = function () { socket.send(JSON.stringify({ type: "hello", client: "web" })); };
    socket.onmessage = function (ev) { onMessage(JSON.parse(ev.data)); };
    socket.onclose = function () {
      state.socketReady = false;
      setTimeout(connect, delay); delay = Math.min(delay * 2, 10000);
    };
  }
  setInterval(function () { send({ type: "heartbeat" }); renderQueueTimes(); }, 10000);
  function renderQueueTimes() { if (page === "doctor" && state.state !== "connected") renderQueue(); }

  var hang = $("hang-up");
  if (hang) hang.addEventListener("click", hangUp);
  var save = $("save-notes");
  if (save) save.addEventListener("click", saveNotes);
  var start = $("start-call");
  if (start) start.addEventListener("click", visitId ? ringVisit : invite);
  window.addEventListener("beforeunload", function () {
    if (state.callId != null) hangUp();
    if (localStream) localStream.getTracks().forEach(function (t) { t.stop(); });
  });
  connect();
})();
