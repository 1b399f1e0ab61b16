// Live progress of a catalogue refresh on /admin/catalogue: polls the JSON status endpoint
// while a run is queued or running and updates the progress bar and the status line.
(function () {
  "use strict";
  var box = document.getElementById("refresh-progress");
  if (!box || !window.fetch) { return; }
  var bar = document.getElementById("refresh-bar");
  var line = document.getElementById("refresh-line");
  var button = document.getElementById("refresh-button");
  var url = box.getAttribute("data-status-url");
  var INTERVAL = 1500;

  function show(data) {
    var run = data.run;
    if (!run) { return; }
    var active = run.status === "queued" || run.status === "running";
    bar.hidden = !active;
    bar.value = run.percent;
    if (button) { button.disabled = active; }
    if (active) {
      line.textContent = "Run #" + run.id + ": " + run.status + " — " + run.message +
        " (" + run.done + "/" + run.total + ")";
    } else {
      line.textContent = "Run #" + run.id + ": " + run.status + ". " +
        (run.report && run.report.length ? run.report[0] + " " + run.report[run.report.length - 1] : run.message) +
        " Reload the page for the full report.";
    }
    return active;
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && show(data)) { window.setTimeout(poll, INTERVAL); }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL * 4); });
  }

  if (box.getAttribute("data-running") === "true") {
    if (button) { button.disabled = true; }
    poll();
  }
}());
