// The Content-Security-Policy allows no style attributes, so an element that needs its own
// CSS values (a preview's colours, a shaded table cell) names them in data-css-vars, as
// JSON: data-css-vars='{"--shade": "0.2"}'. They are set here through the CSSOM, on the page
// and on whatever htmx swaps in. Without script the page still works, in default colours.
(function () {
  "use strict";
  function apply(root) {
    var elements = root.querySelectorAll ? Array.from(root.querySelectorAll("[data-css-vars]")) : [];
    if (root.matches && root.matches("[data-css-vars]")) elements.push(root);
    elements.forEach(function (element) {
      var values = JSON.parse(element.dataset.cssVars);
      Object.keys(values).forEach(function (name) {
        if (name.indexOf("--") === 0) element.style.setProperty(name, String(values[name]));
      });
    });
  }
  if (window.htmx) {
    window.htmx.onLoad(apply);
  } else {
    document.addEventListener("DOMContentLoaded", function () { apply(document); });
  }
})();
