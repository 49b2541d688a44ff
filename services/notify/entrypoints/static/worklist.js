// The worklist follows the team's event stream (Server-Sent Events): on each event it fetches the rows again
// for the current filters and swaps them in. EventSource reconnects by itself and sends Last-Event-ID, so a
// dropped connection resumes where it stopped.
(function () {
  "use strict";
  var rows = document.getElementById("worklist-rows");
  var live = document.getElementById("live");
  if (!rows || !window.EventSource) { if (live) { live.textContent = "live updates: not supported"; } return; }
  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    var url = new URL(window.location.href);
    url.searchParams.set("partial", "rows");
    fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { rows.innerHTML = html; rows.dataset.refreshed = String(Date.now()); })
      .catch(function () { live.textContent = "live updates: reload the page"; })
      .finally(function () { pending = false; });
  }
  var source = new EventSource("/stream");
  source.onopen = function () { live.textContent = "live updates: on"; };
  source.onerror = function () { live.textContent = "live updates: reconnecting"; };
  ["alert", "acknowledged", "decided", "escalated", "decision_drafted"].forEach(function (name) {
    source.addEventListener(name, refresh);
  });
})();
