// Polls the report's status while it is being built, then reloads (templates/reports/detail.html).
(function () {
  var box = document.getElementById("report-status");
  var bar = document.getElementById("report-progress");
  var timer = setInterval(function () {
    fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        bar.value = s.progress; bar.setAttribute("aria-valuenow", s.progress); bar.textContent = s.progress + "%";
        document.getElementById("report-percent").textContent = s.progress;
        // "Building — 40%: Checks"; the finished page (after the reload) says only "Done".
        document.getElementById("report-text").textContent = s.message ? ": " + s.message : "";
        document.getElementById("report-state").textContent = s.status_display || s.status;
        if (s.status === "done" || s.status === "failed") {
          clearInterval(timer);
          window.location.reload();
        }
      });
  }, 1000);
})();
