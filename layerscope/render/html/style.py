# ruff: noqa: E501  (an embedded stylesheet: one rule per line reads better than wrapped)
"""The report page's stylesheet, inlined into every page (no web fonts, no network)."""

from __future__ import annotations

CSS = """
:root{--bg:#f4f5f8;--card:#fff;--ink:#1d2330;--mute:#6b7385;--line:#e3e6ec;--accent:#3b6fd6;
--over:#e8743b;--del:#d64545;--meta:#8e63c7;--ident:#c9a227;--ok:#3f9b5a;--bad:#d64545}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans","Liberation Sans",sans-serif}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:12px}
header.top{background:#1d2330;color:#fff;padding:14px 24px 12px}
header.top .brand{font-size:12px;letter-spacing:.12em;text-transform:uppercase;color:#9fb3e6}
header.top h1{margin:2px 0 2px;font-size:21px;font-weight:600;word-break:break-all}
header.top .meta{color:#b7bfd0;font-size:12.5px}
header.top .meta span+span:before{content:" · "}
main{padding:16px 24px 40px;max-width:1500px;margin:0 auto}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.card{background:var(--card);border-radius:10px;padding:10px 14px;box-shadow:0 1px 2px rgba(20,30,50,.08)}
.card .k{color:var(--mute);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card .v{font-size:22px;font-weight:650;margin-top:2px;white-space:nowrap}
.card .s{color:var(--mute);font-size:12px}
.card.warn .v{color:var(--bad)}.card.good .v{color:var(--ok)}
.panel{background:var(--card);border-radius:10px;padding:12px 16px;margin-top:14px;
box-shadow:0 1px 2px rgba(20,30,50,.08)}
.panel h2{font-size:15px;margin:0 0 8px;font-weight:650}
.panel h2 small{color:var(--mute);font-weight:400;font-size:12.5px;margin-left:6px}
.grid2{display:grid;grid-template-columns:minmax(330px,5fr) 8fr;gap:14px;align-items:start}
.grid2>*{min-width:0}.grid2>.panel{margin-top:14px}
.changes{max-height:460px;overflow:auto}
.cols2{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.cols3{display:grid;grid-template-columns:repeat(3,1fr);gap:14px}
.sbar{display:flex;height:22px;border-radius:6px;overflow:hidden;background:var(--line)}
.sbar span{display:block;height:100%;min-width:1px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin-top:6px;font-size:12px;color:var(--mute)}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.hatch{background-image:repeating-linear-gradient(135deg,rgba(255,255,255,.55) 0 3px,transparent 3px 6px)}
.r-overwritten{background-color:var(--over)}.r-deleted{background-color:var(--del)}
.r-metadata_rewrite{background-color:var(--meta)}.r-identical_rewrite{background-color:var(--ident)}
.layers{max-height:560px;overflow:auto;margin:0 -6px;padding:0 6px}
.lrow{display:grid;grid-template-columns:26px 1fr auto;gap:2px 8px;padding:5px 6px;border-radius:7px;
cursor:pointer;align-items:center}
.lrow:hover{background:#f0f3f9}.lrow.active{background:#e4ebfa;box-shadow:inset 3px 0 0 var(--accent)}
.lrow .ix{width:24px;height:20px;border-radius:5px;color:#fff;font-size:11.5px;font-weight:650;
display:flex;align-items:center;justify-content:center;text-shadow:0 0 2px rgba(0,0,0,.35)}
.lrow .in{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:12.5px}
.lrow .sz{font-size:12.5px;font-weight:600;text-align:right;white-space:nowrap}
.lrow .bar{grid-column:2/4;display:flex;height:9px;border-radius:4px;overflow:hidden;background:#eef0f4}
.lrow .bar span{height:100%;min-width:0}
.lrow .tag{font-size:10.5px;color:var(--mute);border:1px solid var(--line);border-radius:4px;
padding:0 4px;margin-right:5px}
.tmbar{display:flex;align-items:center;gap:10px;margin-bottom:6px;flex-wrap:wrap}
.crumbs{flex:1;font-size:13px;min-width:0}
.crumbs a{color:var(--accent);cursor:pointer;text-decoration:none}
.crumbs a:hover{text-decoration:underline}
.crumbs span.sep{color:var(--mute);margin:0 3px}
.tm{position:relative;width:100%;height:520px;border-radius:6px;overflow:hidden;background:#e9ecf1}
.tm svg{display:block;width:100%;height:100%}
.tm rect{stroke:#fff;stroke-width:.6}
.tm rect.d{stroke:#fff;stroke-width:1}
.tm text{font-size:11px;fill:#1d2330;pointer-events:none}
.tm text.dl{font-weight:600;fill:#3a4255}
.tm text.fl{fill:#fff;text-shadow:0 0 2px rgba(0,0,0,.5)}
.tm.sel rect.f:not(.on){opacity:.18}
.tm rect.f:hover{stroke:#1d2330;stroke-width:1.5}
.tip{position:fixed;z-index:10;display:none;max-width:520px;background:#1d2330;color:#fff;
padding:7px 10px;border-radius:7px;font-size:12.5px;pointer-events:none;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.tip b{word-break:break-all}.tip .ti{color:#b7c6ef;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:11.5px}
.tip .tn{color:#ffb49a}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th{text-align:left;color:var(--mute);font-weight:600;border-bottom:1px solid var(--line);padding:4px 6px}
td{border-bottom:1px solid #f0f1f4;padding:3px 6px;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}
td.p{word-break:break-all;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
.k{display:inline-block;font-size:11px;border-radius:4px;padding:0 5px;color:#fff;white-space:nowrap}
.k.added{background:var(--ok)}.k.removed,.k.deleted{background:var(--del)}
.k.modified,.k.content,.k.overwritten{background:var(--over)}
.k.metadata,.k.metadata_rewrite{background:var(--meta)}
.k.timestamp,.k.identical_rewrite{background:var(--ident)}
.k.hit{background:var(--ok)}.k.miss{background:var(--bad)}
.k.stale{background:var(--bad)}.k.current{background:var(--ok)}
.muted{color:var(--mute)}
.sugg{border-left:3px solid var(--accent);padding:4px 0 4px 12px;margin:10px 0}
.sugg .t{font-weight:600}.sugg .sv{float:right;font-weight:650;color:var(--ok)}
.sugg .d{color:#3a4255;font-size:13px;margin-top:2px}
pre.patch{background:#1d2330;color:#e6e9f0;border-radius:8px;padding:10px 12px;overflow:auto;max-height:420px}
pre.patch .a{color:#8fd694}pre.patch .r{color:#ff9a8f}pre.patch .h{color:#9fb3e6}
details summary{cursor:pointer;color:var(--accent);font-size:13px}
.chart svg{width:100%;height:auto;display:block}
.chart .t{font-size:13px;font-weight:600;margin-bottom:2px}
.timeline td.c{width:14px;height:14px;padding:0;border:2px solid #fff}
.timeline td.hit{background:var(--ok)}.timeline td.miss{background:var(--bad)}
.timeline td.new{background:#c9d1da}.timeline td.absent{background:transparent}
.delta.up{color:var(--bad)}.delta.down{color:var(--ok)}
.empty{color:var(--mute);font-style:italic}
footer{color:var(--mute);font-size:12px;text-align:center;margin-top:24px}
@media (max-width:900px){.grid2,.cols2,.cols3{grid-template-columns:1fr}}
"""
