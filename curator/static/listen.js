// Listener pages: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // A gentle hint when the chosen end point is a low-valence mood (the server says it again).
  var hint = document.getElementById("low-target-hint");
  if (hint) {
    var update = function () {
      var chosen = document.querySelector('input[name="to"]:checked');
      hint.hidden = !(chosen && chosen.dataset.lowValence === "true");
    };
    document.querySelectorAll('input[name="to"]').forEach(function (input) {
      input.addEventListener("change", update);
    });
    update();
  }

  // One click is enough: the server saves exactly once anyway, this just says it is working.
  document.querySelectorAll("form.save-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (!button) { return; }
      window.setTimeout(function () {
        button.disabled = true;
        if (button.dataset.busyLabel) { button.textContent = button.dataset.busyLabel; }
      }, 0);
    });
  });
})();

// Listen before saving: "Play" opens Spotify's embed player for that one track, in place.
// Without this script the same link reloads the page with that track's player open.
(function () {
  "use strict";

  function closePlayer(row) {
    var player = row.querySelector(".player");
    var link = row.querySelector("a.play");
    if (!player || !link) { return; }
    var frame = player.querySelector("iframe");
    if (frame) { frame.remove(); }
    player.hidden = true;
    link.setAttribute("aria-expanded", "false");
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.play[data-embed]");
    if (!link) { return; }
    event.preventDefault();
    var row = link.closest("li.track");
    var open = link.getAttribute("aria-expanded") === "true";
    document.querySelectorAll("li.track").forEach(closePlayer);  // one player at a time
    if (open) { return; }
    var player = row.querySelector(".player");
    var frame = document.createElement("iframe");
    frame.className = "track-embed";
    frame.src = link.dataset.embed;
    frame.width = "100%";
    frame.height = "80";
    frame.title = "Spotify player for " + row.querySelector(".track-name").firstChild.textContent;
    frame.setAttribute("allow", "autoplay; clipboard-write; encrypted-media");
    player.insertBefore(frame, player.firstChild);
    player.hidden = false;
    link.setAttribute("aria-expanded", "true");
  });
})();
