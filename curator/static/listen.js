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

// The mood wheel (start page): a tap sets the radio buttons and sliders beside it, which stay the
// keyboard's and screen reader's controls; the drawing follows whatever they say.
(function () {
  "use strict";

  var card = document.getElementById("wheel");
  var form = document.getElementById("start-form");
  if (!card || !form) { return; }
  var svg = card.querySelector("svg");
  if (!svg || !svg.createSVGPoint) { return; }
  card.hidden = false;
  var CENTRE = 100, HALF = 62, SNAP = 0.08;
  var active = "from";
  var moods = Array.prototype.map.call(svg.querySelectorAll(".wheel-mood"), function (g) {
    return {slug: g.dataset.slug, v: parseFloat(g.dataset.valence), a: parseFloat(g.dataset.arousal),
            name: g.querySelector("text").textContent};
  });

  function clamp(x) { return Math.round(Math.min(1, Math.max(0, x)) * 100) / 100; }
  function xy(v, a) { return [CENTRE + (v - 0.5) * 2 * HALF, CENTRE - (a - 0.5) * 2 * HALF]; }
  function slider(group, axis) { return form.querySelector('input[name="' + group + "_" + axis + '"]'); }
  function words(v, a) {
    return (v < 0.4 ? "darker" : v > 0.6 ? "brighter" : "in between") + ", " +
           (a < 0.4 ? "low energy" : a > 0.6 ? "high energy" : "medium energy");
  }

  function choice(group) {
    var checked = form.querySelector('input[name="' + group + '"]:checked');
    if (!checked) { return null; }
    if (checked.value === "point") {
      var v = parseFloat(slider(group, "valence").value), a = parseFloat(slider(group, "arousal").value);
      return {v: v, a: a, name: "a point: " + words(v, a)};
    }
    for (var i = 0; i < moods.length; i++) {
      if (moods[i].slug === checked.value) { return moods[i]; }
    }
    return null;
  }

  function render() {
    var points = {};
    ["from", "to"].forEach(function (group) {
      var c = choice(group);
      var marker = svg.querySelector(".marker-" + group);
      var label = card.querySelector('[data-value="' + group + '"]');
      if (c) {
        var p = xy(c.v, c.a);
        marker.setAttribute("transform", "translate(" + p[0] + " " + p[1] + ")");
        marker.removeAttribute("hidden");
        label.textContent = c.name;
        points[group] = p;
      } else {
        marker.setAttribute("hidden", "");
      }
    });
    var path = svg.querySelector(".wheel-path");
    if (points.from && points.to) {
      path.setAttribute("x1", points.from[0]); path.setAttribute("y1", points.from[1]);
      path.setAttribute("x2", points.to[0]); path.setAttribute("y2", points.to[1]);
      path.removeAttribute("hidden");
    } else {
      path.setAttribute("hidden", "");
    }
  }

  function setActive(group) {
    active = group;
    card.querySelectorAll(".wheel-step").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.group === group ? "true" : "false");
    });
  }

  function check(input) {
    input.checked = true;
    input.dispatchEvent(new Event("change", {bubbles: true}));
  }

  svg.addEventListener("click", function (event) {
    var pt = svg.createSVGPoint();
    pt.x = event.clientX; pt.y = event.clientY;
    var local = pt.matrixTransform(svg.getScreenCTM().inverse());
    var v = clamp((local.x - CENTRE) / (2 * HALF) + 0.5), a = clamp((CENTRE - local.y) / (2 * HALF) + 0.5);
    var nearest = null, best = SNAP * SNAP;
    moods.forEach(function (m) {
      var d = (m.v - v) * (m.v - v) + (m.a - a) * (m.a - a);
      if (d <= best) { best = d; nearest = m; }
    });
    var group = active;
    if (nearest) {
      check(form.querySelector('input[name="' + group + '"][value="' + nearest.slug + '"]'));
    } else {
      slider(group, "valence").value = v;
      slider(group, "arousal").value = a;
      check(form.querySelector('input[name="' + group + '"][value="point"]'));
    }
    if (group === "from") { setActive("to"); }
    render();
  });
  card.querySelectorAll(".wheel-step").forEach(function (button) {
    button.addEventListener("click", function () { setActive(button.dataset.group); });
  });
  form.addEventListener("change", render);
  form.addEventListener("input", render);
  if (choice("from") && !choice("to")) { setActive("to"); }
  render();
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

// Edits without surprises: swap, keep, rename, nudge, "try other tracks" and undo are sent in the
// background and only what changed is replaced, so the page keeps its place (no jump to the top).
// Without this script each is a normal form post that comes back to the same row (#t-ID).
(function () {
  "use strict";

  var list = document.querySelector("ol.track-list");
  if (!list || !window.fetch || !window.DOMParser) { return; }

  function isLive(form) {
    return form.matches("li.track form.edit-form, form.rename-form, form.nudge-form, form.undo-form, " +
                        "#preview-actions form:not(.save-form)");
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
        // Same track, playing: keep the player, take the new row (its forms name the new preview).
        var main = fresh.querySelector(".track-main");
        var link = main.querySelector("a.play");
        if (link) { link.setAttribute("aria-expanded", "true"); }
        old.querySelector(".track-main").replaceWith(main);
        old.className = fresh.className;
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
          target = list.children[position].querySelector(".row-menu > summary");
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

// Steering on the start form (issue 21).
(function () {
  "use strict";

  // Steering (issue 21): the familiar share as a number, a one-line summary, artist names as you type.
  var familiar = document.getElementById("familiar");
  var summary = document.getElementById("steering-summary");
  var steer = function () {
    if (!summary) { return; }
    var parts = [(familiar ? familiar.value : "0") + "% familiar"];
    var avoid = document.getElementById("avoid_artists");
    var names = avoid ? avoid.value.split(",").filter(function (n) { return n.trim(); }) : [];
    if (names.length) { parts.push("avoiding " + names.length + " artist" + (names.length === 1 ? "" : "s")); }
    var lo = document.getElementById("years_from"), hi = document.getElementById("years_to");
    if ((lo && lo.value) || (hi && hi.value)) { parts.push((lo.value || "\u2026") + "\u2013" + (hi.value || "now")); }
    var explicit = document.getElementById("exclude_explicit");
    if (explicit && explicit.checked) { parts.push("no explicit"); }
    summary.textContent = parts.join(" \u00b7 ");
  };
  if (familiar) {
    var shown = document.getElementById("familiar-value");
    familiar.addEventListener("input", function () { shown.textContent = familiar.value + "%"; steer(); });
    ["avoid_artists", "years_from", "years_to", "exclude_explicit"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener("change", steer); }
    });
  }
  var avoidInput = document.getElementById("avoid_artists");
  if (avoidInput && avoidInput.dataset.suggest && window.fetch) {
    var list = document.getElementById("artist-names");
    var asked = "";
    avoidInput.addEventListener("input", function () {
      var text = avoidInput.value;
      var cut = text.lastIndexOf(",");
      var head = cut >= 0 ? text.slice(0, cut + 1) + " " : "";
      var prefix = text.slice(cut + 1).trim();
      if (prefix.length < 2 || prefix === asked) { return; }
      asked = prefix;
      fetch(avoidInput.dataset.suggest + "?q=" + encodeURIComponent(prefix), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : {artists: []}; })
        .then(function (data) {
          list.textContent = "";
          (data.artists || []).forEach(function (name) {
            var option = document.createElement("option");
            option.value = head + name;
            list.appendChild(option);
          });
        })
        .catch(function () {});
    });
  }
})();
