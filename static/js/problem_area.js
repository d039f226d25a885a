// Problem-area form: show only the fieldset of the chosen kind (all stay visible without JS).
(function () {
  "use strict";
  function sync(select) {
    document.querySelectorAll("fieldset.kind-fields").forEach(function (fieldset) {
      fieldset.hidden = fieldset.dataset.kind !== select.value;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_kind");
    if (!select || !document.querySelector("fieldset.kind-fields")) {
      return;
    }
    sync(select);
    select.addEventListener("change", function () { sync(select); });
  });
})();
