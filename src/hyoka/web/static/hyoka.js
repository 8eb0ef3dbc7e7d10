// hyoka serve: small enhancements only — every page also works without this script.
"use strict";
(function () {
  // Drag and drop onto the upload area; the browser's last-saved times go with the files, so that
  // collect orders and compares versions as it does for files on disk.
  const form = document.getElementById("upload-form");
  if (form) {
    const input = document.getElementById("files");
    const drop = document.getElementById("drop");
    const chosen = document.getElementById("chosen");
    const modified = document.getElementById("modified");
    const show = () => {
      const n = input.files.length;
      chosen.textContent = n ? `${n} 件のファイルを選びました。` : "";
      const times = {};
      for (const f of input.files) times[f.name] = f.lastModified;
      modified.value = JSON.stringify(times);
    };
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; show(); }
    });
    form.addEventListener("submit", () => {
      show();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = "送信中…";
    });
  }
  // A running job: ask for its progress every second, and show the result when it is done.
  const job = document.getElementById("job");
  if (job) {
    const id = job.dataset.job;
    const bar = document.getElementById("progress");
    const text = document.getElementById("progress-text");
    const poll = () => {
      fetch(`/jobs/${id}.json`, { credentials: "same-origin", cache: "no-store" })
        .then((r) => r.json())
        .then((s) => {
          if (s.state === "running") {
            if (s.total && bar) { bar.max = s.total; bar.value = s.done; }
            if (text) text.textContent = `${s.done}/${s.total} 件`;
            setTimeout(poll, 1000);
          } else {
            window.location.reload();
          }
        })
        .catch(() => setTimeout(poll, 2000));
    };
    setTimeout(poll, 500);
  }
})();
