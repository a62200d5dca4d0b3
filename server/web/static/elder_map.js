// The register form's map: click where the elder lives and the latitude / longitude fields
// are filled in; typing coordinates moves the marker. Leaflet from /static/vendor/leaflet.
(function () {
  "use strict";
  var box = document.getElementById("elder-map");
  if (!box || !window.L) return;
  var lat = document.getElementById("latitude");
  var lon = document.getElementById("longitude");
  var start = [31.2304, 121.4737]; // Shanghai, when the elder has no place yet
  var known = parseFloat(box.dataset.lat), knownLon = parseFloat(box.dataset.lon);
  var has = isFinite(known) && isFinite(knownLon);
  var map = L.map(box).setView(has ? [known, knownLon] : start, has ? 16 : 11);
  // Map tiles only from a source the page's Content-Security-Policy allows (data-tiles);
  // without one the map is blank but a click still places the elder.
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
  }
  L.control.scale().addTo(map);
  var marker = has ? L.marker([known, knownLon]).addTo(map) : null;
  function place(latlng) {
    if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng).addTo(map);
  }
  map.on("click", function (event) {
    place(event.latlng);
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
  });
  function typed() {
    var a = parseFloat(lat.value), b = parseFloat(lon.value);
    if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) {
      place([a, b]);
      map.panTo([a, b]);
    }
  }
  lat.addEventListener("change", typed);
  lon.addEventListener("change", typed);
})();
