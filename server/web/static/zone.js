// Tells the server the viewer's time zone, so pages name the zone a time is shown in when it
// is not the viewer's own (a daughter in London reading her mother's Beijing times).
(function () {
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("anxin_tz=" + encodeURIComponent(tz)) < 0) {
      document.cookie = "anxin_tz=" + encodeURIComponent(tz) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: times keep their zone named */ }
})();
