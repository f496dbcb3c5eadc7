/* Impact charts: Chart.js draws each table's data (a json_script beside its canvas). */
(function () {
  "use strict";
  if (!window.Chart) return;
  var COLOURS = ["#005eb8", "#e69f00", "#009e73", "#cc79a7"];
  document.querySelectorAll(".impact-section canvas").forEach(function (canvas) {
    var source = document.getElementById(canvas.id.replace(/-chart$/, ""));
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var scales = {};
    var axis = spec.horizontal ? "x" : "y";
    // A count has whole-number ticks: no "0.5 members".
    var ticks = spec.counts ? {precision: 0} : {};
    scales[axis] = {beginAtZero: true, ticks: ticks};
    if (spec.datasets.some(function (d) { return d.yAxisID; })) {
      scales.cumulative = {beginAtZero: true, position: "right", grid: {drawOnChartArea: false},
                           ticks: ticks};
    }
    new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          return Object.assign({backgroundColor: COLOURS[i], borderColor: COLOURS[i]}, d);
        })
      },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        scales: scales
      }
    });
    canvas.dataset.drawn = "true";
  });
})();
