// One WebAudio context per page, shared by the SOS alarm (sos.js) and the ring tone of an
// elder's call (ring.js). Browsers keep it suspended until the user interacts with the page
// (autoplay policy): the first click anywhere resumes it for both.
(function () {
  "use strict";
  if (window.anxinAudio) return;
  var ctx = null;
  window.anxinAudio = function () {
    if (!ctx) {
      var Ctor = window.AudioContext || window.webkitAudioContext;
      if (!Ctor) return null;
      ctx = new Ctor();
    }
    if (ctx.state === "suspended") ctx.resume();
    return ctx;
  };
  document.addEventListener("click", function () { window.anxinAudio(); }, { once: true });
})();
