# ruff: noqa: E501  (embedded JavaScript, kept readable rather than wrapped at 100)
"""The report page's script, inlined into every page: a squarified treemap drawn as SVG for the
directory the user zoomed into (only cells of at least a few pixels are drawn, so 100k files
cost no more than 5k), the tooltip, and the layer chart's selection. Vanilla JS, no library."""

from __future__ import annotations

SCRIPT = r"""
(function () {
"use strict";
var el = document.getElementById("ls-data");
var D = el ? JSON.parse(el.textContent) : {};
var NS = "http://www.w3.org/2000/svg";
function esc(s) {
  return String(s).replace(/[&<>"]/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c];
  });
}
function fmt(n) {
  if (Math.abs(n) < 1000) return n + " B";
  var u = ["kB", "MB", "GB", "TB", "PB"], v = n, i = -1;
  do { v /= 1000; i++; } while (Math.abs(v) >= 999.95 && i < u.length - 1);
  return v.toFixed(1) + " " + u[i];
}
var tip = document.createElement("div");
tip.className = "tip";
tip.id = "ls-tip";
document.body.appendChild(tip);
function showTip(html, ev) {
  tip.innerHTML = html;
  tip.style.display = "block";
  var r = tip.getBoundingClientRect(), x = ev.clientX + 14, y = ev.clientY + 14;
  if (x + r.width > window.innerWidth) x = Math.max(0, ev.clientX - r.width - 14);
  if (y + r.height > window.innerHeight) y = Math.max(0, ev.clientY - r.height - 14);
  tip.style.left = x + "px";
  tip.style.top = y + "px";
}
function hideTip() { tip.style.display = "none"; }

/* Squarified treemap (Bruls, Huizing, van Wijk 2000): items sorted by value, largest first. */
function squarify(items, x, y, w, h) {
  var total = 0, out = [], i = 0;
  for (var t = 0; t < items.length; t++) total += items[t].v;
  if (!(total > 0) || w <= 0 || h <= 0) return out;
  var scale = w * h / total;
  while (i < items.length) {
    var side = Math.min(w, h), sum = 0, mn = Infinity, mx = 0, best = Infinity, j = i;
    while (j < items.length) {
      var a = items[j].v * scale, s = sum + a, mn2 = Math.min(mn, a), mx2 = Math.max(mx, a);
      var worst = Math.max(side * side * mx2 / (s * s), s * s / (side * side * mn2));
      if (worst > best) break;
      best = worst; sum = s; mn = mn2; mx = mx2; j++;
    }
    var k, p;
    if (w >= h) {
      var cw = sum / h;
      for (k = i, p = y; k < j; k++) { var ih = items[k].v * scale / cw; out.push([x, p, cw, ih]); p += ih; }
      x += cw; w -= cw;
    } else {
      var rh = sum / w;
      for (k = i, p = x; k < j; k++) { var iw = items[k].v * scale / rh; out.push([p, y, iw, rh]); p += iw; }
      y += rh; h -= rh;
    }
    i = j;
  }
  return out;
}

function isDir(n) { return Array.isArray(n[3]); }
var DIRS = ["#dfe3ea", "#d3d8e1", "#c8ced9", "#bdc4d0"];
function Treemap(host) {
  var self = this, cells = [], parts = [], showHidden = true, sel = null;
  var stack = [{node: D.tree, path: ""}];
  var svg = document.createElementNS(NS, "svg");
  host.appendChild(svg);
  var crumbs = document.getElementById("ls-crumbs");
  function val(n) {
    if (showHidden) return n[1];
    return isDir(n) ? n[4] : (n[4] === 1 ? 0 : n[1]);
  }
  function key(n) { return n.length > 5 ? n[5] : n[2]; }
  function colour(c) { return D.cats[c] ? D.cats[c][2] : "#9aa5b1"; }
  function clip(s, px) {
    var fit = Math.floor(px / 6.6);
    return s.length <= fit ? s : (fit > 2 ? s.slice(0, fit - 1) + "\u2026" : "");
  }
  /* Breadth first, so every directory of the view gets its area before any is detailed; past
     BUDGET cells a directory is drawn as one block in the colour of its main layer. */
  var BUDGET = 4000, MIN_AREA = 6;
  function rect(cls, id, geo, fill) {
    parts.push('<rect class="' + cls + '"' + (id === null ? ' pointer-events="none"' : ' data-i="' + id + '"') + geo + ' fill="' + fill + '"/>');
  }
  function geometry(rx, ry, rw, rh) {
    return ' x="' + rx.toFixed(1) + '" y="' + ry.toFixed(1) + '" width="' + rw.toFixed(1) + '" height="' + rh.toFixed(1) + '"';
  }
  function lit(n, k) { return sel !== null && k === sel ? " on" : ""; }
  /* a directory drawn as one block lights up with its main layer; not where leaves are keyed
     by something else than their colour (diff: colour = change kind, key = layer pair) */
  function dirKey(n) { return D.keyed ? null : n[2]; }
  function layout(job) {
    var node = job[0], path = job[1], parent = job[2], depth = job[7];
    if (cells.length >= BUDGET && parent >= 0) {
      rect("f" + lit(node, dirKey(node)), parent, geometry(job[3], job[4], job[5], job[6]), colour(node[2]));
      return;
    }
    var kids = [];
    for (var q = 0; q < node[3].length; q++) {
      var v = val(node[3][q]);
      if (v > 0) kids.push({n: node[3][q], v: v});
    }
    kids.sort(function (a, b) { return b.v - a.v; });
    var rects = squarify(kids, job[3], job[4], job[5], job[6]);
    for (var k = 0; k < rects.length; k++) {
      var r = rects[k], n = kids[k].n, rx = r[0], ry = r[1], rw = r[2], rh = r[3];
      if (rw * rh < MIN_AREA || (cells.length >= BUDGET && rw * rh < 64)) break;
      var p = path + "/" + n[0], id = cells.length, geo = geometry(rx, ry, rw, rh);
      var top = depth === 0 ? " top" : "";
      cells.push([n, p, parent]);
      if (isDir(n)) {
        var head = rw > 64 && rh > 40 ? 15 : 0;
        if (rw > 10 && rh > 10 + head && cells.length < BUDGET) {
          rect("d" + top, id, geo, DIRS[depth % 4]);
          if (head) parts.push('<text class="dl" x="' + (rx + 4).toFixed(1) + '" y="' + (ry + 11.5).toFixed(1) +
            '">' + esc(clip(n[0] + "  " + fmt(val(n)), rw - 8)) + "</text>");
          queue.push([n, p, id, rx + 1.5, ry + head + 1.5, rw - 3, rh - head - 3, depth + 1]);
        } else {
          rect("f" + top + lit(n, dirKey(n)), id, geo, colour(n[2]));
        }
      } else {
        var on = lit(n, key(n));
        rect("f" + top + on, id, geo, colour(n[2]));
        if (n[4] === 1) rect("f" + on, null, geo, "url(#ls-hatch)");
        if (n[4] === 2) rect("f" + on, null, geo, "url(#ls-dots)");
        if (rw > 46 && rh > 15) parts.push('<text class="fl" x="' + (rx + 3).toFixed(1) + '" y="' +
          (ry + 12).toFixed(1) + '">' + esc(clip(n[0], rw - 6)) + "</text>");
      }
    }
  }
  var queue = [];
  function draw() {
    var top = stack[stack.length - 1];
    var w = host.clientWidth || 800, h = host.clientHeight || 500;
    var started = performance.now();
    cells = []; parts = [];
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    queue = [[top.node, top.path, -1, 0, 0, w, h, 0]];
    for (var j = 0; j < queue.length; j++) layout(queue[j]);
    svg.innerHTML = '<defs><pattern id="ls-hatch" width="6" height="6" patternUnits="userSpaceOnUse" ' +
      'patternTransform="rotate(45)"><rect width="3" height="6" fill="rgba(255,255,255,.6)"/></pattern>' +
      '<pattern id="ls-dots" width="5" height="5" patternUnits="userSpaceOnUse"><circle cx="2.5" cy="2.5" r="1" ' +
      'fill="rgba(255,255,255,.7)"/></pattern></defs>' + parts.join("");
    host.classList.toggle("sel", sel !== null);
    host.setAttribute("data-cells", String(cells.length));
    host.setAttribute("data-draw-ms", (performance.now() - started).toFixed(1));
    if (crumbs) {
      var html = "";
      for (var i = 0; i < stack.length; i++) {
        var name = i === 0 ? (D.rootLabel || "/") : stack[i].node[0];
        if (i) html += '<span class="sep">/</span>';
        html += i === stack.length - 1 ? "<b>" + esc(name) + "</b>" : '<a data-z="' + i + '">' + esc(name) + "</a>";
      }
      crumbs.innerHTML = html + ' <span class="muted">' + fmt(val(top.node)) + "</span>";
    }
  }
  function describe(n, p) {
    var c = D.cats[n[2]], h = "<b>" + esc(p) + "</b><br>" + fmt(n[1]);
    if (isDir(n)) {
      h += " \u00b7 directory" + (c ? " \u00b7 mostly " + esc(c[0]) : "");
      if (n[4] !== n[1]) h += '<br><span class="tn">' + fmt(n[1] - n[4]) + " hidden by later layers</span>";
      return h;
    }
    if (n[6]) h += " \u00b7 " + esc(n[6]);
    if (c) h += " \u00b7 " + esc(c[0]) + (c[1] ? '<br><span class="ti">' + esc(c[1]) + "</span>" : "");
    if (n[3] >= 0) h += '<br><span class="tn">' + esc(D.notes[n[3]]) + "</span>";
    return h;
  }
  svg.addEventListener("mousemove", function (ev) {
    var i = ev.target.getAttribute && ev.target.getAttribute("data-i");
    if (i === null || i === undefined) { hideTip(); return; }
    var cell = cells[+i];
    showTip(describe(cell[0], cell[1]), ev);
  });
  svg.addEventListener("mouseleave", hideTip);
  svg.addEventListener("click", function (ev) {
    var i = ev.target.getAttribute && ev.target.getAttribute("data-i");
    if (i === null || i === undefined) return;
    var id = +i;
    while (id >= 0 && cells[id][2] >= 0) id = cells[id][2];
    if (!isDir(cells[id][0])) return;
    stack.push({node: cells[id][0], path: cells[id][1]});
    hideTip();
    draw();
  });
  if (crumbs) crumbs.addEventListener("click", function (ev) {
    var z = ev.target.getAttribute("data-z");
    if (z !== null) { stack.length = +z + 1; draw(); }
  });
  var box = document.getElementById("ls-hidden");
  if (box) box.addEventListener("change", function () { showHidden = box.checked; draw(); });
  self.select = function (c) { sel = c; draw(); };
  self.draw = draw;
  var pending = 0;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(draw, 120);
  });
  draw();
}

var host = document.getElementById("ls-tm");
var tm = host && D.tree ? new Treemap(host) : null;
window.layerscopeTreemap = tm;

var panel = document.getElementById("ls-changes");
function showChanges(k) {
  if (!panel) return;
  var c = k === null ? null : (D.changes || {})[k];
  if (!c) { panel.innerHTML = '<p class="empty">' + esc(D.changesHint || "") + "</p>"; return; }
  var rows = "";
  for (var i = 0; i < c.rows.length; i++) {
    var r = c.rows[i];
    rows += '<tr><td><span class="k ' + r[0] + '">' + esc(r[0]) + '</span></td><td class="p">' +
      esc(r[1]) + '</td><td class="n">' + esc(r[2]) + "</td></tr>";
  }
  panel.innerHTML = "<h2>" + esc(c.title) + " <small>" + esc(c.sub) + "</small></h2>" +
    '<div class="mono muted" style="margin-bottom:6px;word-break:break-all">' + esc(c.instr) + "</div>" +
    (rows ? "<table><tr><th>change</th><th>path</th><th class=n>size</th></tr>" + rows + "</table>"
          : '<p class="empty">No file changes.</p>') +
    (c.more ? '<p class="muted">and ' + c.more + " more (smaller) changes</p>" : "");
}
var selected = null;
var rows = document.querySelectorAll("[data-layer]");
function select(k) {
  selected = selected === k ? null : k;
  for (var i = 0; i < rows.length; i++)
    rows[i].classList.toggle("active", rows[i].getAttribute("data-layer") === selected);
  if (tm) tm.select(selected === null ? null : +selected);
  showChanges(selected);
}
for (var i = 0; i < rows.length; i++) {
  rows[i].addEventListener("click", function () { select(this.getAttribute("data-layer")); });
  rows[i].addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(this.getAttribute("data-layer")); }
  });
}
showChanges(null);
document.documentElement.setAttribute("data-ready", "1");
})();
"""
