// Progressive enhancement only: every table and form works without this file.
(function () {
  "use strict";

  function drawCharts() {
    var data = document.getElementById("traffic-data");
    if (!data || typeof uPlot === "undefined") return;
    var chart = JSON.parse(data.textContent);
    if (!chart.time.length) return;
    var width = function (el) { return Math.max(320, el.clientWidth || 480); };
    var specs = [
      ["chart-messages", [["messages", "Messages", "#1d4f91"]]],
      ["chart-error_rate", [["error_rate", "Error rate %", "#9b1111"]]],
      ["chart-latency", [["p50", "p50 ms", "#0a5c2b"], ["p95", "p95 ms", "#7a4a00"], ["p99", "p99 ms", "#9b1111"]]],
      ["chart-bytes", [["bytes", "Bytes", "#4a2c82"]]]
    ];
    specs.forEach(function (spec) {
      var el = document.getElementById(spec[0]);
      if (!el) return;
      var series = [{}];
      var columns = [chart.time];
      spec[1].forEach(function (s) {
        series.push({ label: s[1], stroke: s[2], width: 2, points: { show: true, size: 5 } });
        columns.push(chart[s[0]]);
      });
      new uPlot({ width: width(el), height: 220, series: series, scales: { x: { time: true } } },
                columns, el);
      el.setAttribute("data-drawn", "true");
    });
  }

  function sliderSubmitsOnRelease() {
    var form = document.getElementById("time-slider");
    if (!form) return;
    var range = form.querySelector("input[type=range]");
    range.addEventListener("change", function () { form.submit(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    sliderSubmitsOnRelease();
  });
})();
