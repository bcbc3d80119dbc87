// Dashboard: the chart's time labels and bar tooltips in the reader's time zone and clock (the server draws UTC).
"use strict";

(function () {
  function clock(date, withDate) {
    const options = { hour: "2-digit", minute: "2-digit", hourCycle: Baton.prefs.clock === "12" ? "h12" : "h23" };
    if (withDate) { options.month = "short"; options.day = "numeric"; }
    return new Intl.DateTimeFormat(undefined, options).format(date);
  }

  function localizeChart(svg) {
    svg.querySelectorAll("text[data-time]").forEach(function (label) {
      label.textContent = clock(new Date(label.dataset.time), label.dataset.withDate === "true");
    });
    svg.querySelectorAll("g.bucket").forEach(function (bucket) {
      const start = new Date(bucket.dataset.start);
      const end = new Date(bucket.dataset.end);
      const withDate = end - start >= 6 * 3600 * 1000;
      const period = clock(start, withDate) + "–" + clock(end, withDate);
      bucket.querySelectorAll("rect[data-count]").forEach(function (bar) {
        const state = bar.dataset.state.charAt(0) + bar.dataset.state.slice(1).toLowerCase();
        bar.querySelector("title").textContent = Number(bar.dataset.count) + " " + state + ", " + period;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".chart svg.stacked-bars").forEach(localizeChart);
  });
})();
