/* Copy buttons: <button data-copy="ID" data-copied="Copied"> copies the text of #ID to the
   clipboard and says so in [data-copy-status="ID"]. A static file, so the CSP allows it. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-copy");
      var source = document.getElementById(id);
      var status = document.querySelector('[data-copy-status="' + id + '"]');
      if (!source) { return; }
      var text = source.textContent.trim();
      var done = function () { if (status) { status.textContent = button.getAttribute("data-copied"); } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(source); });
      } else {
        select(source);
        try { if (document.execCommand("copy")) { done(); } } catch (e) { /* selected for Ctrl+C */ }
      }
    });
  });
  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
