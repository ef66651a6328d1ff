// Live progress of running jobs: every element [data-job] polls its job's JSON and
// updates its bar; when a job ends the page reloads to show the result. Without
// JavaScript the page refreshes itself instead (a <noscript> meta refresh).
(function () {
  "use strict";
  function watch(element) {
    var url = element.getAttribute("data-url");
    var bar = element.querySelector("progress");
    var note = element.querySelector(".job-note");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          if (job.state === "succeeded" || job.state === "failed") { window.location.reload(); return; }
          if (bar) { bar.value = job.progress; }
          if (note) {
            var text = Math.round(job.progress * 100) + "%";
            if (job.progress_total) { text = job.progress_done.toLocaleString() + " / " + job.progress_total.toLocaleString(); }
            if (job.seconds_left !== null && job.seconds_left !== undefined) { text += " · " + element.getAttribute("data-left").replace("{seconds}", Math.ceil(job.seconds_left)); }
            note.textContent = text;
          }
          window.setTimeout(poll, 1500);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-job]"), watch);
  });
})();
