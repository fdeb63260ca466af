// Progressive enhancement for the dev server's UI; every page works without it.
// - [data-confirm] forms ask before they submit (destructive actions);
// - [data-autosubmit] selects submit their form on change (namespace switcher);
// - #live[data-refresh=N] is re-fetched every N seconds and swapped in place,
//   until the user pauses it ([data-refresh-toggle]; the choice is remembered).
(function () {
  "use strict";
  var PAUSED_KEY = "dw-ui-refresh-paused";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.hasAttribute && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });

  function paused() {
    return window.localStorage.getItem(PAUSED_KEY) === "1";
  }

  function showState() {
    var toggle = document.querySelector("[data-refresh-toggle]");
    var state = document.querySelector("[data-refresh-state]");
    if (!toggle || !state) return;
    toggle.textContent = paused() ? "Resume auto-refresh" : "Pause auto-refresh";
    state.textContent = paused() ? "auto-refresh paused" : "auto-refresh every 5 s";
    toggle.setAttribute("aria-pressed", paused() ? "true" : "false");
  }

  function refresh(live) {
    if (paused() || document.hidden) return;
    var openEvents = Array.prototype.map.call(
      live.querySelectorAll("details[open][data-event]"),
      function (d) { return d.getAttribute("data-event"); }
    );
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "refresh" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || paused()) return;
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (!next) return;
        live.replaceChildren.apply(live, Array.prototype.slice.call(next.childNodes));
        openEvents.forEach(function (seq) {
          var again = live.querySelector('details[data-event="' + seq + '"]');
          if (again) again.open = true;
        });
        live.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* the next tick tries again */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    var seconds = live ? parseInt(live.getAttribute("data-refresh") || "0", 10) : 0;
    var toggle = document.querySelector("[data-refresh-toggle]");
    if (toggle) {
      toggle.addEventListener("click", function () {
        window.localStorage.setItem(PAUSED_KEY, paused() ? "0" : "1");
        showState();
      });
    }
    showState();
    if (live && seconds > 0) {
      window.setInterval(function () { refresh(live); }, seconds * 1000);
    }
  });
})();
