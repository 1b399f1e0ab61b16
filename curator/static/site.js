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

  // The curator's and admin's tables reflow on a phone: each row becomes a card whose cells carry their
  // column's heading (curator.css shows it above the value), instead of a table scrolled sideways.
  // Also window.curatorReflow(element) for sections swapped in later (admin-refresh.js).
  function reflow(root) {
    root.querySelectorAll("table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) { return; }
      var labels = Array.prototype.map.call(heads, function (th) { return th.textContent.replace(/\s+/g, " ").trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          var span = parseInt(cell.getAttribute("colspan") || "1", 10);
          if (span === 1 && labels[column] && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", labels[column]); }
          column += span;
        });
      });
      table.classList.add("reflowed");
    });
  }
  window.curatorReflow = reflow;
  var area = document.querySelector("main[data-area]");
  if (area && /^(curate|admin)$/.test(area.getAttribute("data-area"))) { reflow(area); }

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
