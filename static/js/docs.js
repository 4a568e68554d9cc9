// Render the OpenAPI document with the vendored Swagger UI (no inline script: the CSP forbids it).
(function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.specUrl, domNode: root, deepLinking: true });
})();
