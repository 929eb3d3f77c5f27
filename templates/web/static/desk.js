// Live response countdowns on the desk: every element with data-due counts down each second.
// Without JavaScript the page still shows the deadline and the minutes left when it was rendered.
"use strict";
(function () {
  var URGENT_MS = 15 * 60 * 1000;
  function format(ms) {
    var sign = ms < 0 ? "−" : "";
    var total = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return sign + (h > 0 ? h + ":" + pad(m) : m) + ":" + pad(s);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (cell) {
      var due = Date.parse(cell.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var left = due - now;
      cell.textContent = format(left);
      cell.classList.toggle("urgent", left < URGENT_MS);
      cell.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
