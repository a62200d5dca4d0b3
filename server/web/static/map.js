// A map to pick a place: click to set the point, or type latitude/longitude. One script for
// every form with a location (areas, clinics, service points, elders).
//
// Usage: load /static/vendor/leaflet/leaflet.css, /static/vendor/leaflet/leaflet.js and this
// file, then put a div with class "map-picker" in the form:
//   <div class="map-picker" id="map"
//        data-lat-input="latitude"      id of the latitude input (required)
//        data-lng-input="longitude"     id of the longitude input (required)
//        data-boundary-input="boundary" optional: id of a textarea of GeoJSON shown on the map
//        data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"  empty: no tiles
//        data-attribution="© OpenStreetMap"
//        data-centre="39.9042,116.4074" data-zoom="11"   where the map opens when empty
//        data-readonly="1"              optional: show only, no picking
//   ></div>
// The div needs a height (class map-picker has one in admin.css). Without tiles the map is a
// plain background: the point and boundary still show and clicking still picks.
(function () {
  "use strict";
  function number(input) {
    if (!input || input.value.trim() === "") return null;
    var value = Number(input.value.trim());
    return isFinite(value) ? value : null;
  }
  function setup(div) {
    if (!window.L) return;
    var lat = document.getElementById(div.getAttribute("data-lat-input"));
    var lng = document.getElementById(div.getAttribute("data-lng-input"));
    var boundaryInput = document.getElementById(div.getAttribute("data-boundary-input") || "");
    var readonly = div.getAttribute("data-readonly") === "1";
    var centre = (div.getAttribute("data-centre") || "39.9042,116.4074").split(",").map(Number);
    var map = L.map(div, { center: centre, zoom: Number(div.getAttribute("data-zoom") || 11) });
    var tiles = div.getAttribute("data-tiles") || "";
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: div.getAttribute("data-attribution") || "" }).addTo(map);
    }
    var marker = null;
    var shape = null;
    function place(latitude, longitude, pan) {
      if (latitude === null || longitude === null) {
        if (marker) { map.removeLayer(marker); marker = null; }
        return;
      }
      var at = [latitude, longitude];
      if (marker) marker.setLatLng(at);
      else marker = L.circleMarker(at, { radius: 10, color: "#a50016", weight: 3, fillOpacity: 0.6 }).addTo(map);
      if (pan) map.panTo(at);
      div.setAttribute("data-picked", latitude.toFixed(6) + "," + longitude.toFixed(6));
    }
    function fromInputs(pan) { place(number(lat), number(lng), pan); }
    function drawBoundary(fit) {
      if (!boundaryInput) return;
      if (shape) { map.removeLayer(shape); shape = null; }
      var text = boundaryInput.value.trim();
      if (!text) return;
      try {
        shape = L.geoJSON(JSON.parse(text), { style: { color: "#0b5394", weight: 3, fillOpacity: 0.08 } }).addTo(map);
        if (fit && !marker) map.fitBounds(shape.getBounds());
      } catch (err) {
        shape = null; // the server says what is wrong with it
      }
    }
    fromInputs(true);
    drawBoundary(true);
    if (!readonly) {
      map.on("click", function (event) {
        lat.value = event.latlng.lat.toFixed(6);
        lng.value = event.latlng.lng.toFixed(6);
        place(event.latlng.lat, event.latlng.lng, false);
      });
      [lat, lng].forEach(function (input) {
        if (input) input.addEventListener("change", function () { fromInputs(true); });
      });
      if (boundaryInput) boundaryInput.addEventListener("change", function () { drawBoundary(true); });
    }
    div.setAttribute("data-ready", "1");
  }
  function start() { document.querySelectorAll(".map-picker").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
