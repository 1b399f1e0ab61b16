// Live progress of a catalogue refresh on /admin/catalogue: polls the JSON status endpoint
// while a run is queued or running and updates the progress bar and the status line, keeping
// them in view. When the run ends, the "Refresh #N started" notice is removed and the page's own
// sections marked data-live (summary, coverage, runs, imports) are read again and swapped in, so
// nothing on the page contradicts the status line.
(function () {
  "use strict";
  var box = document.getElementById("refresh-progress");
  if (!box || !window.fetch) { return; }
  var bar = document.getElementById("refresh-bar");
  var line = document.getElementById("refresh-line");
  var button = document.getElementById("refresh-button");
  var url = box.getAttribute("data-status-url");
  var INTERVAL = 1500;

  function summary(run) {
    if (run.report && run.report.length) {
      return run.report[0] + (run.report.length > 1 ? " " + run.report[run.report.length - 1] : "");
    }
    return run.message || "";
  }

  function show(data) {
    var run = data.run;
    if (!run) { return false; }
    var active = run.status === "queued" || run.status === "running";
    bar.hidden = !active;
    bar.value = run.percent;
    if (button) { button.disabled = active; }
    if (active) {
      line.textContent = "Run #" + run.id + ": " + run.status + " — " + run.message +
        " (step " + run.done + " of " + run.total + ")";
    } else {
      line.textContent = "Run #" + run.id + ": " + run.status + ". " + summary(run);
    }
    return active;
  }

  // Scrolls only when the progress is out of sight, so a reader who scrolled on is left alone.
  function keepInView() {
    var rect = box.getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > window.innerHeight) {
      box.scrollIntoView({ block: "nearest" });
    }
  }

  function clearStartedNotice(run) {
    var notice = "Refresh #" + run.id + " started";
    Array.prototype.forEach.call(document.querySelectorAll(".flashes .flash"), function (flash) {
      if (flash.textContent.indexOf(notice) === 0) { flash.parentNode.removeChild(flash); }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".flashes"), function (flashes) {
      if (!flashes.children.length) { flashes.parentNode.removeChild(flashes); }
    });
  }

  // The finished page, as the server renders it now; DOMParser runs no scripts.
  function refreshSections() {
    return fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        Array.prototype.forEach.call(document.querySelectorAll("[data-live][id]"), function (old) {
          var replacement = fresh.getElementById(old.id);
          if (replacement) {
            old.innerHTML = replacement.innerHTML;
            if (window.curatorReflow) { window.curatorReflow(old); } // tables as cards on a phone again
          }
        });
        keepInView();
      })
      .catch(function () {
        line.textContent += " Reload the page for the full report.";
      });
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) {
          line.textContent = "The refresh status could not be read; reload the page to see it.";
          return;
        }
        if (show(data)) {
          window.setTimeout(poll, INTERVAL);
        } else {
          clearStartedNotice(data.run);
          refreshSections();
        }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL * 4); });
  }

  if (box.getAttribute("data-running") === "true") {
    if (button) { button.disabled = true; }
    keepInView();
    poll();
  }
}());
