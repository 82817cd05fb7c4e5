// The request wizard: autosave as you type, and live data-use compatibility per dataset.
// Plain JavaScript, no framework; the page works without it (the submit button saves too).
(function () {
  "use strict";
  const form = document.getElementById("section-form");
  if (!form) return;
  const status = form.querySelector(".autosave-status");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let timer = null;

  function clearErrors() {
    form.querySelectorAll(".error.autosave").forEach((el) => el.remove());
  }

  function showErrors(errors) {
    Object.entries(errors).forEach(([field, list]) => {
      const input = form.querySelector(`[name="${field}"]`);
      const message = document.createElement("p");
      message.className = "error autosave";
      message.setAttribute("role", "alert");
      message.textContent = list.map((e) => e.message).join(" ");
      (input ? input.closest(".field") || input.parentElement : form).appendChild(message);
    });
  }

  async function autosave() {
    status.textContent = form.dataset.savingText || "Saving…";
    const response = await fetch(form.dataset.autosave, {
      method: "POST", body: new FormData(form),
      headers: { "X-Autosave": "1", "X-CSRFToken": csrf },
      credentials: "same-origin",
    });
    clearErrors();
    if (response.ok) {
      status.textContent = (form.dataset.savedText || "Draft saved at") + " " +
        new Date().toLocaleTimeString(document.documentElement.lang || undefined);
    } else {
      const body = await response.json().catch(() => ({ errors: {} }));
      showErrors(body.errors || {});
      status.textContent = form.dataset.notSavedText ||
        "Not saved: please correct the marked answers. Your text is kept.";
    }
  }

  // Conditional questions ("show when" in the form template): shown while the condition on
  // another question of this page holds. The server applies the same rule on submission.
  function answerOf(name) {
    const inputs = form.querySelectorAll(`[name="${name}"]`);
    if (!inputs.length) return undefined;
    const first = inputs[0];
    if (first.type === "checkbox" && inputs.length === 1) return first.checked;
    if (first.type === "checkbox") return Array.from(inputs).filter((i) => i.checked).map((i) => i.value);
    if (first.type === "radio") {
      const chosen = Array.from(inputs).find((i) => i.checked);
      return chosen ? chosen.value : "";
    }
    return first.value;
  }

  function applyConditions() {
    form.querySelectorAll("[data-show-when]").forEach((wrapper) => {
      let rule;
      try { rule = JSON.parse(wrapper.dataset.showWhen); } catch (e) { return; }
      if (!rule || !rule.question) return;
      const value = answerOf(rule.question);
      if (value === undefined) return; // asked on another page: the server decided
      let shown = true;
      if ("equals" in rule) shown = value === rule.equals;
      else if ("in" in rule) shown = rule.in.includes(value);
      else if ("not_empty" in rule) shown = Boolean(value && value.length !== 0) === Boolean(rule.not_empty);
      wrapper.hidden = !shown;
    });
  }
  form.addEventListener("change", applyConditions);
  applyConditions();

  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(autosave, 1200);
  });
  form.addEventListener("change", () => {
    clearTimeout(timer);
    timer = setTimeout(autosave, 300);
    checkCompatibility();
  });

  const data = document.getElementById("compat-data");
  const compat = data ? JSON.parse(data.textContent) : null;

  async function checkCompatibility() {
    if (!compat) return;
    const boxes = form.querySelectorAll("input[name=datasets]");
    for (const box of boxes) {
      const slug = box.dataset.slug;
      const out = form.querySelector(`[data-compat-for="${slug}"]`);
      if (!box.checked) { out.textContent = ""; out.className = "compat"; continue; }
      // ?localised=1: the reasons also in the page's language (the language cookie)
      const response = await fetch(compat.match_url + "?localised=1", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ purpose: compat.purpose, conditions: compat.datasets[slug] }),
      });
      const body = await response.json();
      if (response.ok) {
        const label = form.dataset["decision" + body.decision.charAt(0).toUpperCase() + body.decision.slice(1)];
        // The verdict in words, then the matcher's reasons in the page's language.
        const reasons = body.localised_reasons || body.reasons;
        out.textContent = (label || body.decision.replace("_", " ")) + (reasons.length ? ": " + reasons.join(" ") : "");
        out.title = "";
        out.className = "compat compat-" + body.decision;
      } else {
        out.textContent = form.dataset.compatIncompleteText ||
          "Complete the research purpose (section 1) to check compatibility.";
        out.className = "compat compat-needs_review";
      }
    }
  }
  checkCompatibility();
})();
