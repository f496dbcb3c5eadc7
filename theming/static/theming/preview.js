// Live preview of the branding form: colours apply as you type, with their contrast ratio.
// The form works without this script; it only adds the preview.
(function () {
  "use strict";
  const preview = document.getElementById("preview");
  const note = document.getElementById("preview-contrast");
  const fields = { "--colour-primary": "id_primary_colour", "--colour-accent": "id_accent_colour" };
  // What each colour sits on, as the server checks it: links on the page, white on buttons.
  const against = { "--colour-primary": ["#ffffff", "#f0f4f5"], "--colour-accent": ["#ffffff"] };
  const hex = /^#[0-9a-fA-F]{6}$/;

  function luminance(colour) {
    const channels = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16) / 255);
    const linear = channels.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
  }
  function ratio(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  function update() {
    const parts = [];
    for (const [property, id] of Object.entries(fields)) {
      const value = document.getElementById(id).value.trim();
      if (!hex.test(value)) continue;
      preview.style.setProperty(property, value);
      const r = Math.min(...against[property].map((other) => ratio(value, other)));
      parts.push(`${property === "--colour-primary" ? "Main" : "Button"} colour: ${r.toFixed(1)}:1 ${r >= 4.5 ? "passes" : "is below 4.5:1"}`);
    }
    note.textContent = parts.join(". ");
  }
  for (const id of Object.values(fields)) document.getElementById(id).addEventListener("input", update);
  update();
})();
