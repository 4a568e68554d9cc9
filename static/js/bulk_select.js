// Progressive enhancement: a "select all on this page" box in the guests table's selection
// column. Without script each guest is ticked one by one, or "All N matching" is used.
(function () {
  "use strict";
  var header = document.querySelector("table.guests th.select");
  if (!header) {
    return;
  }
  var boxes = Array.prototype.slice.call(
    document.querySelectorAll('table.guests td.select input[type="checkbox"]')
  );
  var all = document.createElement("input");
  all.type = "checkbox";
  all.id = "select-page";
  all.setAttribute("aria-label", "Select all guests on this page");
  header.appendChild(all);
  function sync() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
  sync();
})();
