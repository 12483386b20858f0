// Refreshes every element marked data-auto-refresh (through its hx-get) every few
// seconds while the tab is visible, and at once when it becomes visible again; nothing
// runs while it is hidden. No inline script: the Content-Security-Policy forbids it.
(function () {
  "use strict";
  function refresh() {
    if (document.visibilityState !== "visible" || !window.htmx) {
      return;
    }
    document.querySelectorAll("[data-auto-refresh]").forEach(function (element) {
      window.htmx.trigger(element, "refresh");
    });
  }
  function start() {
    var period = parseInt(document.body.getAttribute("data-refresh-ms"), 10) || 5000;
    if (!document.querySelector("[data-auto-refresh]")) {
      return;
    }
    window.setInterval(refresh, period);
    document.addEventListener("visibilitychange", refresh);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
