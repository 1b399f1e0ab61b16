// Mood editor live preview: POST the form (nothing is saved) and swap in the returned fragment.
// Without JavaScript the "Preview" button does the same with a full page load.
(function () {
  "use strict";
  var form = document.getElementById("mood-form");
  var target = document.getElementById("preview");
  var status = document.getElementById("preview-status");
  if (!form || !target || !window.fetch) { return; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var timer = null;
  var latest = 0;

  function refresh() {
    var ticket = ++latest;
    var data = new FormData(form);
    data.delete("action");
    target.setAttribute("aria-busy", "true");
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": meta ? meta.content : "" }
    }).then(function (response) {
      return response.text().then(function (html) { return { ok: response.ok, html: html }; });
    }).then(function (result) {
      if (ticket !== latest) { return; } // a newer edit is on its way
      if (result.ok) {
        target.innerHTML = result.html;
        if (window.curatorReflow) { window.curatorReflow(target); }
        announce();
      } else {
        failed();
      }
    }).catch(function () {
      if (ticket === latest) { failed(); }
    }).then(function () {
      if (ticket === latest) { target.removeAttribute("aria-busy"); }
    });
  }

  // One line for screen readers: the summary, the first problem, or the hint.
  function announce() {
    if (!status) { return; }
    var line = target.querySelector(".preview-summary, .error-text, .notice, p.muted");
    status.textContent = "Preview updated. " + (line ? line.textContent.replace(/\s+/g, " ").trim() : "");
  }

  function failed() {
    target.innerHTML = '<p class="error-text">The preview could not be refreshed; use the Preview button.</p>';
    announce();
  }

  function schedule(event) {
    if (event && event.target && event.target.name === "note") { return; } // the note changes no track
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
