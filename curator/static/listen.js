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

// Edits without surprises: swap, keep, rename, nudge and "try other tracks" are sent in the
// background and only what changed is replaced, so the page keeps its place (no jump to the top).
// Without this script each is a normal form post that comes back to the same row (#t-ID).
(function () {
  "use strict";

  var list = document.querySelector("ol.track-list");
  if (!list || !window.fetch || !window.DOMParser) { return; }

  function isLive(form) {
    return form.matches("li.track form.edit-form, form.rename-form, form.nudge-form, #preview-actions form:not(.save-form)");
  }

  function swapRows(doc) {
    var oldRows = Array.prototype.slice.call(list.querySelectorAll(":scope > li.track"));
    var newRows = Array.prototype.slice.call(doc.querySelectorAll("ol.track-list > li.track"));
    newRows.forEach(function (row, k) {
      var fresh = document.importNode(row, true);
      var old = oldRows[k];
      if (!old) { list.appendChild(fresh); return; }
      var player = old.querySelector(".player:not([hidden])");
      if (player && old.dataset.id === row.dataset.id) {
        // Same track, playing: keep the player, take the new forms (they name the new preview).
        var actions = old.querySelector(".track-actions");
        actions.replaceWith(fresh.querySelector(".track-actions"));
        old.querySelector(".track-main").className = fresh.querySelector(".track-main").className;
        return;
      }
      old.replaceWith(fresh);
    });
    oldRows.slice(newRows.length).forEach(function (row) { row.remove(); });
  }

  function swapRegions(doc) {
    doc.querySelectorAll("[data-live][id]").forEach(function (node) {
      var current = document.getElementById(node.id);
      if (current) { current.replaceWith(document.importNode(node, true)); }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!isLive(form)) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    // Where focus was, to put it back on the same control of the new page.
    var row = form.closest("li.track");
    var position = row ? Array.prototype.indexOf.call(list.children, row) : -1;
    var kind = form.dataset.edit || form.className;
    var value = submitter && submitter.value;
    // What the listener is looking at, and where on the screen: it stays there after the edit.
    var anchor = row || form;
    var anchorTop = anchor.getBoundingClientRect().top;
    var anchorId = form.id || (form.closest("[id]") || {}).id;
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                        headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        if (!response.ok || response.url.indexOf("/previews/") === -1) { throw new Error("not a preview"); }
        return response.text().then(function (html) { return {url: response.url, html: html}; });
      })
      .then(function (answer) {
        var doc = new DOMParser().parseFromString(answer.html, "text/html");
        if (!doc.querySelector("ol.track-list")) { throw new Error("not a preview"); }
        swapRows(doc);
        swapRegions(doc);
        window.history.replaceState(null, "", answer.url);
        var moved = position >= 0 ? list.children[position] : (anchorId && document.getElementById(anchorId));
        if (moved) { window.scrollBy(0, moved.getBoundingClientRect().top - anchorTop); }
        var target = null;
        if (position >= 0 && list.children[position]) {
          target = list.children[position].querySelector('form[data-edit="' + kind + '"] button');
        } else if (value) {
          target = document.querySelector('button[value="' + value + '"]');
        }
        if (target) { target.focus({preventScroll: true}); }
      })
      .catch(function () {
        // Anything unexpected (an error page, a lost connection): let the browser do the post.
        form.removeAttribute("aria-busy");
        if (submitter && submitter.name) {
          var carried = document.createElement("input");
          carried.type = "hidden";
          carried.name = submitter.name;
          carried.value = submitter.value;
          form.appendChild(carried);
        }
        HTMLFormElement.prototype.submit.call(form);
      });
  });
})();
