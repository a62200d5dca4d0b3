// Live updates for logged-in pages: one WebSocket to /ws/web speaking the Anxin protocol.
// On a `changed` push the page re-fetches itself and swaps its [data-live] regions.
(function () {
  "use strict";
  var badge = document.getElementById("live-badge");
  var delay = 500, beatTimer = null, socket = null, lastHeard = 0, beatSeconds = 10;

  function setLive(on) {
    document.body.dataset.live = on ? "on" : "off";
    if (badge) badge.textContent = on ? badge.dataset.on : badge.dataset.off;
  }

  // One refresh at a time: a push that arrives while one is in flight asks for one more after
  // it. Two fetches in flight could land out of order and leave the older page showing.
  var refreshing = false, refreshAgain = false;

  function refresh() {
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("refresh: HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var fresh = region.id && doc.getElementById(region.id);
          if (!fresh) return;
          // Forms stay as they are: someone may be typing in one.
          var kept = {};
          region.querySelectorAll("form[id]").forEach(function (form) { kept[form.id] = form; });
          region.innerHTML = fresh.innerHTML;
          Object.keys(kept).forEach(function (id) {
            var incoming = region.querySelector("#" + CSS.escape(id));
            if (incoming) incoming.replaceWith(kept[id]);
          });
        });
        document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates) + 1);
        document.dispatchEvent(new CustomEvent("anxin:changed"));
      })
      .catch(function (err) { console.warn(err); })
      .then(function () {
        refreshing = false;
        if (refreshAgain) { refreshAgain = false; refresh(); }
      });
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(proto + "//" + location.host + "/ws/web");
    socket.onopen = function () { socket.send(JSON.stringify({ type: "hello", client: "web" })); };
    socket.onmessage = function (event) {
      lastHeard = Date.now();
      var msg = JSON.parse(event.data);
      if (msg.type === "welcome") {
        // Catch up on whatever changed while the page loaded or the socket was down.
        refresh();
        delay = 500; beatSeconds = msg.heartbeat_seconds || 10; setLive(true);
        clearInterval(beatTimer);
        beatTimer = setInterval(function () {
          if (Date.now() - lastHeard > beatSeconds * 3000) { socket.close(); return; }
          socket.send(JSON.stringify({ type: "heartbeat" }));
        }, beatSeconds * 1000);
      } else if (msg.type === "changed") {
        refresh();
      } else if (msg.type === "error" && msg.code === "unauthorized") {
        location.href = "/login?next=" + encodeURIComponent(location.pathname);
      }
      document.dispatchEvent(new CustomEvent("anxin:message", { detail: msg }));
    };
    socket.onclose = function () {
      setLive(false);
      clearInterval(beatTimer);
      setTimeout(connect, delay + Math.random() * delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  // Other scripts of the page send through this socket (e.g. ring.js declining a call).
  window.anxinLive = {
    send: function (msg) {
      if (!socket || socket.readyState !== 1) return false;
      socket.send(JSON.stringify(msg));
      return true;
    }
  };
  connect();
})();
