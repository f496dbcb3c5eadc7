// A colour picker beside each colour's text box (the text box is what the form sends, and
// all a browser without script shows). Picking a colour types it into the box, as if typed,
// so the live preview follows; typing a whole colour into the box moves the picker.
(function () {
  "use strict";
  var HEX = /^#[0-9a-fA-F]{6}$/;
  function connect(picker) {
    var box = document.getElementById(picker.dataset.colourFor);
    if (!box) return;
    if (HEX.test(box.value.trim())) picker.value = box.value.trim().toLowerCase();
    picker.addEventListener("input", function () {
      box.value = picker.value;
      box.dispatchEvent(new Event("input", { bubbles: true }));
    });
    box.addEventListener("input", function () {
      if (HEX.test(box.value.trim())) picker.value = box.value.trim().toLowerCase();
    });
    picker.closest(".colour-picker").hidden = false;
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[type=color][data-colour-for]").forEach(connect);
  });
})();
