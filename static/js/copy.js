// Progressive enhancement: "Copy" buttons next to read-only fields. Without script (or without
// clipboard access) the buttons stay hidden and the field can be selected and copied by hand.
(function () {
  "use strict";
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          button.textContent = "Copied";
        },
        function () {
          field.select();
          button.textContent = "Press Ctrl+C";
        }
      );
    });
  });
})();
