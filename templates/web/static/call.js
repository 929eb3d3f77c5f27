// Call console: as the agent types, ask the gateway which serial and contract numbers it recognises.
// The same parser runs on submit; this only shows its answer early. The form works without JavaScript.
"use strict";
(function () {
  var form = document.getElementById("call-form");
  var box = document.getElementById("recognised");
  if (!form || !box) { return; }
  var pending = null, sequence = 0;
  function fields() {
    var data = {};
    ["caller_number", "caller_name", "company", "serial_number", "contract_number", "notes", "line"].forEach(function (name) {
      var input = form.elements.namedItem(name);
      data[name] = input ? input.value : "";
    });
    return data;
  }
  function show(id, values) {
    var el = document.getElementById(id);
    el.textContent = values && values.length ? values.join(", ") : el.getAttribute("data-none");
  }
  function render(answer) {
    box.hidden = false;
    show("recognised-serials", answer.serial_numbers);
    show("recognised-contracts", answer.contract_numbers);
    document.getElementById("recognised-phone").textContent = answer.caller_phone || "—";
    var missing = document.getElementById("recognised-missing");
    var names = (answer.missing || []).map(function (item) { return missing.getAttribute("data-" + item) || item; });
    missing.textContent = names.length ? names.join(", ") : missing.getAttribute("data-nothing");
  }
  function ask() {
    var mine = ++sequence;
    fetch("/agent/calls/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": form.getAttribute("data-csrf") },
      body: JSON.stringify(fields())
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && mine === sequence && !answer.error) { render(answer); } })
      .catch(function () { /* the preview is a convenience; submitting still works */ });
  }
  form.addEventListener("input", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(ask, 250);
  });
})();
