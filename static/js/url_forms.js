// Progressive enhancement: a form marked data-mirrors-url shows the values of the page's URL.
// When Back or Forward restores a page from the browser's cache, its form still holds what was
// typed before leaving; resetting it brings back the values the server wrote, i.e. the URL's.
// (Without script, autocomplete="off" keeps the browser from restoring typed values.)
(function () {
  "use strict";
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[data-mirrors-url]").forEach(function (form) {
      form.reset();
    });
  });
})();
