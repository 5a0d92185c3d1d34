// Live updates: the server says on /live (Server-Sent Events) when jobs, sync operations or conflicts changed; the
// page then fetches itself and swaps in the fresh copy of each region marked `data-live` (by id). Forms outside those
// regions keep what the person typed. No inline script: the Content-Security-Policy allows only this file.
(function () {
  "use strict";
  if (!document.querySelector("[data-live]") || !window.EventSource) return;
  var queued = false;
  var running = false;

  function refresh() {
    queued = false;
    if (running) { queued = true; return; }
    running = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var replacement = fresh.getElementById(region.id);
          if (replacement && replacement.innerHTML !== region.innerHTML) region.replaceWith(replacement);
        });
      })
      .catch(function () {})
      .finally(function () {
        running = false;
        if (queued) refresh();
      });
  }

  var source = new EventSource("/live");
  source.addEventListener("change", function () {
    if (!queued) { queued = true; window.setTimeout(refresh, 100); }
  });
})();
