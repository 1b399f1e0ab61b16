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
