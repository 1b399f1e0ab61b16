// Every page: small enhancements; every page works without this file.
(function () {
  "use strict";

  // Menus (<details> with a .menu-list): one open at a time, closed by a click elsewhere or Escape.
  function menus() { return document.querySelectorAll("details.account-menu[open], details.row-menu[open]"); }
  document.addEventListener("click", function (event) {
    menus().forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.open || !opened.matches || !opened.matches("details.account-menu, details.row-menu")) { return; }
    menus().forEach(function (menu) { if (menu !== opened) { menu.removeAttribute("open"); } });
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    menus().forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary && menu.contains(document.activeElement)) { summary.focus(); }
    });
  });

  // A cover that can't load (offline, or gone from Spotify's CDN) gives way to its coloured tile.
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (!img || img.tagName !== "IMG" || !img.classList.contains("cover")) { return; }
    var tile = img.parentNode && img.parentNode.querySelector(".cover.tile");
    if (tile) { tile.hidden = false; }
    img.remove();
  }, true);

  // "Keep it fresh" turned on for the first time: at the hour in the listener's own time zone.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (zone) {
    document.querySelectorAll("input[data-local-timezone]").forEach(function (input) { input.value = zone; });
  }
})();
