// Registration form: show gender/birth date only for documents that do not carry them,
// and suggest registered employers as the user types (filling in the credit code).
(function () {
  "use strict";
  var RESIDENT_ID = "111";

  var idType = document.getElementById("id_type");
  var extra = document.querySelector(".non-resident-only");
  function toggleExtra() {
    if (idType && extra) extra.hidden = idType.value === RESIDENT_ID;
  }
  if (idType) {
    idType.addEventListener("change", toggleExtra);
    toggleExtra();
  }

  var nameInput = document.getElementById("org_name");
  var codeInput = document.getElementById("org_code");
  var list = document.getElementById("org-suggestions");
  if (!nameInput || !codeInput || !list) return;
  var byName = {};
  var timer = null;
  var lastQuery = "";

  function render(results) {
    byName = {};
    list.textContent = "";
    results.forEach(function (org) {
      byName[org.name] = org.credit_code;
      var option = document.createElement("option");
      option.value = org.name;
      option.label = org.credit_code;
      list.appendChild(option);
    });
  }

  function lookup() {
    var query = nameInput.value.trim();
    if (query.length < 2 || query === lastQuery) return;
    lastQuery = query;
    var url = list.getAttribute("data-lookup-url") + "?q=" + encodeURIComponent(query);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { render(data.results || []); })
      .catch(function () { /* suggestions are a convenience; typing the code still works */ });
  }

  nameInput.addEventListener("input", function () {
    if (byName[nameInput.value]) {
      codeInput.value = byName[nameInput.value];
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(lookup, 250);
  });
})();
