/* The report form shows only the fields of the chosen kind of report (reports/forms.py,
   FIELD_KINDS): a field whose input names other kinds in data-report-kinds is hidden and
   disabled, so it is neither seen nor sent. Without JavaScript every field shows. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var kind = form.querySelector("[name=kind]");
  function update() {
    form.querySelectorAll("[data-report-kinds]").forEach(function (input) {
      var shown = input.getAttribute("data-report-kinds").split(" ").indexOf(kind.value) !== -1;
      var field = input.closest(".field") || input;
      field.hidden = !shown;
      input.disabled = !shown;
    });
  }
  kind.addEventListener("change", update);
  update();
})();
