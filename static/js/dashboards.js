/* Draws each dashboard chart from the JSON the page embeds with json_script (no inline script: strict CSP).
   Every canvas[data-chart] names the id of its <script type="application/json"> block. */
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }

  var COLOURS = ["#0b5ed7", "#b02a37", "#146c43", "#997404", "#6f42c1", "#0a7c8c"];

  function percentTick(value) { return value + "%"; }

  function dataset(series, index, type) {
    var colour = COLOURS[index % COLOURS.length];
    return {
      label: series.label,
      data: series.data,
      type: type,
      backgroundColor: type === "line" ? colour : colour + "cc",
      borderColor: colour,
      borderWidth: type === "line" ? 2 : 1,
      pointRadius: type === "line" ? 2 : 0,
      spanGaps: true,
      tension: 0.2
    };
  }

  function config(spec) {
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: spec.series.length > 1 } },
      scales: {
        x: { ticks: { autoSkip: true, maxRotation: 60 } },
        y: { beginAtZero: true, title: { display: Boolean(spec.axis), text: spec.axis }, stacked: spec.stacked }
      }
    };
    if (spec.series.length && spec.series[0].percent) {
      options.scales.y.ticks = { callback: percentTick };
    }
    var datasets;
    if (spec.type === "pareto") {
      // Bars of counts, largest first, and the cumulative share as a line on its own 0–100% axis.
      datasets = [dataset(spec.series[0], 0, "bar"), dataset(spec.series[1], 1, "line")];
      datasets[1].yAxisID = "cumulative";
      options.plugins.legend.display = true;
      options.scales.cumulative = {
        position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
        ticks: { callback: percentTick }, title: { display: true, text: "Cumulative share" }
      };
    } else {
      datasets = spec.series.map(function (series, index) { return dataset(series, index, spec.type); });
    }
    return { type: spec.type === "pareto" ? "bar" : spec.type, data: { labels: spec.labels, datasets: datasets },
             options: options };
  }

  function draw() {
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) { return; }
      var chart = new Chart(canvas, config(JSON.parse(source.textContent)));
      canvas.dataset.drawn = String(chart.data.datasets.length);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
