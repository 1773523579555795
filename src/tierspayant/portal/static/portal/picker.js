// Code picker of the quote form (issue 15 part 6): type words in a « Code » field, choose a
// code with the keyboard (ARIA 1.2 combobox with a listbox popup) or the mouse. No framework;
// the server does the search (GET <data-url>?q=&date=, JSON). Without JavaScript the field
// still takes a typed code.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script.getAttribute("data-url");
  var dateField = document.getElementById(script.getAttribute("data-date-field") || "");
  var counter = 0;

  function attach(input) {
    counter += 1;
    var list = document.createElement("ul");
    list.id = "picker-list-" + counter;
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Codes trouvés");
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-describedby", "picker-help");
    var results = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) { return; }
      active = (index + options.length) % options.length;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var entry = results[index];
      if (!entry) { return; }
      input.value = entry.code;
      close();
      var row = input.closest("tr");
      var next = row && row.querySelector(entry.teeth ? "input[name$='-tooth']" : "input[name$='-billed']");
      if (next) { next.focus(); }
    }

    function render() {
      list.textContent = "";
      results.forEach(function (entry, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.code = entry.code;
        var strong = document.createElement("strong");
        strong.textContent = entry.code;
        option.appendChild(strong);
        var details = " " + entry.label + " — " + entry["class"];
        if (entry.price_limit) { details += " · prix limite " + entry.price_limit + " €"; }
        if (entry.teeth) { details += " · dents : " + entry.teeth; }
        option.appendChild(document.createTextNode(details));
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(option);
      });
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "picker-none";
        none.textContent = "Aucun code ne correspond.";
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      input.removeAttribute("aria-activedescendant");
    }

    function search() {
      var words = input.value.trim();
      if (words.length < 2 || /^[0-9]{7}$|^[A-Za-z]{4}[0-9]{3}$/.test(words)) {
        close();
        return;
      }
      asked += 1;
      var mine = asked;
      var query = "?q=" + encodeURIComponent(words);
      if (dateField && dateField.value) { query += "&date=" + encodeURIComponent(dateField.value); }
      fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          if (mine !== asked) { return; }
          results = data.results || [];
          render();
        })
        .catch(close);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (open) { highlight(active + 1); } else { search(); }
      } else if (event.key === "ArrowUp") {
        if (open) { event.preventDefault(); highlight(active - 1); }
      } else if (event.key === "Enter") {
        if (open && active >= 0 && results.length) {
          event.preventDefault();
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  document.querySelectorAll("input[data-picker]").forEach(attach);
})();
