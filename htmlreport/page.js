(function () {
  "use strict";
  var hidden = {};
  function apply() {
    document.querySelectorAll("[data-backend]").forEach(function (el) {
      if (el.closest(".tip")) return;
      el.classList.toggle("hidden-backend", !!hidden[el.getAttribute("data-backend")]);
    });
    document.querySelectorAll("button[data-toggle]").forEach(function (b) {
      b.setAttribute("aria-pressed", hidden[b.getAttribute("data-toggle")] ? "false" : "true");
    });
    document.querySelectorAll("button[data-group]").forEach(function (g) {
      g.setAttribute("aria-pressed", members(g).some(function (m) { return !hidden[m]; }) ? "true" : "false");
    });
  }
  // members are the backends of a group's button.
  function members(g) {
    var name = g.getAttribute("data-group");
    return Array.prototype.filter.call(document.querySelectorAll("button[data-toggle]"), function (b) {
      return b.getAttribute("data-in") === name;
    }).map(function (b) { return b.getAttribute("data-toggle"); });
  }
  document.querySelectorAll("button[data-toggle]").forEach(function (b) {
    b.addEventListener("click", function () {
      var name = b.getAttribute("data-toggle");
      hidden[name] = !hidden[name];
      apply();
    });
  });
  // A group's button hides all of it while any is shown, else shows all.
  document.querySelectorAll("button[data-group]").forEach(function (g) {
    g.addEventListener("click", function () {
      var ms = members(g);
      var hide = ms.some(function (m) { return !hidden[m]; });
      ms.forEach(function (m) { hidden[m] = hide; });
      apply();
    });
  });

  var tip = document.getElementById("tip");
  function row(k, v) {
    var d = document.createElement("div");
    var b = document.createElement("b");
    b.textContent = k;
    d.appendChild(b);
    d.appendChild(document.createTextNode(" " + v));
    return d;
  }
  function show(el, x, y) {
    tip.replaceChildren();
    tip.appendChild(row(el.getAttribute("data-backend"), el.getAttribute("data-x")));
    tip.appendChild(row(el.getAttribute("data-panel") + ":", el.getAttribute("data-value")));
    var n = el.getAttribute("data-n"), s = el.getAttribute("data-spread");
    tip.appendChild(row("n", n + (s ? ", " + s : "")));
    var w = el.getAttribute("data-warn");
    if (w) {
      var d = row("warning:", w);
      d.className = "w";
      tip.appendChild(d);
    }
    tip.hidden = false;
    var r = tip.getBoundingClientRect();
    var left = Math.min(x + 12, window.innerWidth - r.width - 8);
    var top = y + 12 + r.height > window.innerHeight ? y - r.height - 12 : y + 12;
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = Math.max(4, top) + "px";
  }
  document.querySelectorAll("circle.pt").forEach(function (c) {
    c.addEventListener("mouseenter", function (e) { show(c, e.clientX, e.clientY); });
    c.addEventListener("mousemove", function (e) { show(c, e.clientX, e.clientY); });
    c.addEventListener("mouseleave", function () { tip.hidden = true; });
    c.addEventListener("focus", function () {
      var r = c.getBoundingClientRect();
      show(c, r.right, r.bottom);
    });
    c.addEventListener("blur", function () { tip.hidden = true; });
  });

  document.querySelectorAll("table.sortable").forEach(function (t) {
    var heads = t.querySelectorAll("th");
    heads.forEach(function (th) {
      function sort() {
        var col = +th.getAttribute("data-col");
        var num = th.hasAttribute("data-numeric");
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        var body = t.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
          if (num) {
            var fx = parseFloat(x), fy = parseFloat(y);
            if (isNaN(fx)) return 1;
            if (isNaN(fy)) return -1;
            return dir * (fx - fy);
          }
          return dir * x.localeCompare(y);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });
})();
