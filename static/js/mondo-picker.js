// The disease picker: search MONDO by name and add the chosen class's id to the diseases field.
// Progressive enhancement: without JavaScript the field takes MONDO ids typed by hand.
(function () {
  "use strict";
  const form = document.getElementById("section-form");
  if (!form || !form.dataset.mondoSearch) return;
  const url = form.dataset.mondoSearch;
  form.querySelectorAll("ul.mondo-chosen[data-mondo-for]").forEach((chosen) => {
    const field = document.getElementById(chosen.dataset.mondoFor);
    if (!field) return;
    const box = document.createElement("div");
    box.className = "mondo-picker";
    const label = document.createElement("label");
    const search = document.createElement("input");
    search.type = "search";
    search.id = field.id + "_search";
    search.autocomplete = "off";
    label.htmlFor = search.id;
    label.textContent = form.dataset.mondoLabel || "Search diseases by name";
    const results = document.createElement("ul");
    results.className = "mondo-results";
    results.setAttribute("aria-live", "polite");
    box.append(label, search);
    // MONDO has English names only: readers of other languages are told so under the box.
    if (form.dataset.mondoHint) {
      const hint = document.createElement("p");
      hint.className = "help";
      hint.id = search.id + "_hint";
      hint.textContent = form.dataset.mondoHint;
      search.setAttribute("aria-describedby", hint.id);
      box.append(hint);
    }
    box.append(results);
    chosen.after(box);
    let timer = null;
    let asked = 0;

    function ids() {
      return field.value.replace(/,/g, " ").split(/\s+/).filter(Boolean).map((s) => s.toUpperCase());
    }

    function add(term) {
      const current = ids();
      if (!current.includes(term.id)) {
        current.push(term.id);
        field.value = current.join(", ");
        const item = document.createElement("li");
        item.textContent = term.label + " (" + term.id + ")";
        chosen.appendChild(item);
        // the wizard's autosave and live compatibility listen to these
        field.dispatchEvent(new Event("input", { bubbles: true }));
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
      results.replaceChildren();
      search.value = "";
      search.focus();
    }

    async function find() {
      const query = search.value.trim();
      const mine = ++asked;
      if (query.length < 2) { results.replaceChildren(); return; }
      const response = await fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
      if (mine !== asked || !response.ok) return;
      const terms = await response.json();
      results.replaceChildren();
      if (!terms.length) {
        const none = document.createElement("li");
        none.className = "muted";
        none.textContent = form.dataset.mondoNoneText || "No disease found.";
        results.appendChild(none);
        return;
      }
      terms.forEach((term) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary small";
        button.dataset.mondoId = term.id;
        button.textContent = (form.dataset.mondoAddText || "Add") + ": " + term.label + " (" + term.id + ")";
        button.addEventListener("click", () => add(term));
        item.appendChild(button);
        results.appendChild(item);
      });
    }

    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(find, 250);
    });
    // Enter in the search box must not submit the section
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        const first = results.querySelector("button");
        if (first) first.click();
      }
    });
  });
})();
