/**
 * The report page's own script (inlined, plain ES2019, no template literals
 * or backslashes so it sits in a TypeScript string as is): steps through
 * each counterexample (buttons, the event list, arrow keys) and draws the
 * cost charts with Chart.js from the data embedded in the page.
 */
export const VIEWER_SCRIPT = String.raw`
(function () {
  "use strict";
  document.body.classList.add("js");

  function viewer(t) {
    var steps = t.querySelectorAll(".step");
    var items = t.querySelectorAll("ol.timeline li");
    var pos = t.querySelector(".position");
    var n = steps.length;
    var violation = Number(t.getAttribute("data-violation-step") || n);
    var cur = 0;
    function show(i) {
      if (n === 0) return;
      cur = Math.max(0, Math.min(n - 1, i));
      for (var j = 0; j < n; j++) {
        steps[j].classList.toggle("current", j === cur);
        items[j].classList.toggle("current", j === cur);
      }
      pos.textContent = "step " + (cur + 1) + " of " + n;
      t.setAttribute("data-current", String(cur + 1));
    }
    function on(sel, f) { var b = t.querySelector(sel); if (b) b.addEventListener("click", f); }
    on("button.first", function () { show(0); });
    on("button.prev", function () { show(cur - 1); });
    on("button.next", function () { show(cur + 1); });
    on("button.violation", function () { show(violation - 1); });
    for (var k = 0; k < items.length; k++) {
      (function (j) { items[j].addEventListener("click", function () { show(j); }); })(k);
    }
    t.addEventListener("keydown", function (e) {
      if (e.key === "ArrowRight" || e.key === "ArrowDown") { show(cur + 1); e.preventDefault(); }
      if (e.key === "ArrowLeft" || e.key === "ArrowUp") { show(cur - 1); e.preventDefault(); }
    });
    show(0);
  }
  var traces = document.querySelectorAll("article.trace");
  for (var i = 0; i < traces.length; i++) viewer(traces[i]);

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var costs = data.costs;
  if (!costs || typeof Chart === "undefined") return;
  var COLORS = ["#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#1b7c83", "#953800", "#57606a", "#0550ae", "#6639ba", "#116329", "#a40e26", "#4d2d00"];
  function color(i) { return COLORS[i % COLORS.length]; }
  function unique(xs) { var out = []; xs.forEach(function (x) { if (out.indexOf(x) < 0) out.push(x); }); return out; }
  function chart(id, config) {
    var el = document.getElementById(id);
    if (!el) return;
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
    el.chart = new Chart(el, config);
  }
  function axis(type, text) { return { type: type, title: { display: true, text: text } }; }

  if (costs.workloads) {
    var workloads = unique(costs.workloads.map(function (r) { return r.workload; }));
    var policies = unique(costs.workloads.map(function (r) { return r.policy; }));
    chart("chart-workloads", {
      type: "bar",
      data: {
        labels: workloads,
        datasets: policies.map(function (p, i) {
          return {
            label: p, backgroundColor: color(i),
            data: workloads.map(function (w) {
              var r = costs.workloads.filter(function (x) { return x.policy === p && x.workload === w; })[0];
              return r && r.nsPerIo > 0 ? r.nsPerIo : null;
            })
          };
        })
      },
      options: { scales: { y: axis("logarithmic", "estimated ns per I/O (log scale)") } }
    });
  }
  if (costs.morselVsVfio) {
    var series = unique(costs.morselVsVfio.map(function (r) { return r.policy + " " + r.op; }));
    chart("chart-morsel-vs-vfio", {
      type: "line",
      data: {
        datasets: series.map(function (s, i) {
          var rows = costs.morselVsVfio.filter(function (r) { return r.policy + " " + r.op === s && r.nsEstimate > 0; });
          var policy = s.split(" ")[0];
          return {
            label: s, borderColor: color(unique(series.map(function (x) { return x.split(" ")[0]; })).indexOf(policy)),
            backgroundColor: "transparent", borderDash: / unmap$/.test(s) ? [6, 4] : [],
            pointRadius: rows.map(function (r) { return r.measured ? 3 : 1; }),
            data: rows.map(function (r) { return { x: r.bytes, y: r.nsEstimate }; })
          };
        })
      },
      options: { scales: { x: axis("logarithmic", "buffer size in bytes (log scale)"), y: axis("logarithmic", "estimated ns per call (log scale)") } }
    });
  }
  if (costs.metadata) {
    chart("chart-metadata", {
      type: "bar",
      data: {
        labels: costs.metadata.map(function (r) { return r.scheme; }),
        datasets: [{ label: "struct page metadata, % of host memory", backgroundColor: color(0), data: costs.metadata.map(function (r) { return r.percent; }) }]
      },
      options: { scales: { y: axis("linear", "% of host memory") } }
    });
  }
})();
`;
