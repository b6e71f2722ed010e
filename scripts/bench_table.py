#!/usr/bin/env python3
"""Turns the loadgen JSON lines of a benchmark run into table.md (medians over the passes) and,
when gnuplot is installed, plot.png, both in the results folder.

Usage: bench_table.py RESULTS.jsonl RESULTS_DIR TITLE
"""
import json
import shutil
import statistics
import subprocess
import sys

results, out, title = sys.argv[1], sys.argv[2], sys.argv[3]
rows = {}
for line in open(results):
    r = json.loads(line)
    rows.setdefault(r["label"], []).append(r)


def med(xs):
    return statistics.median(xs) if xs else 0


lines = ["| run | req/s or deliveries/s | p50 us | p99 us | server CPU us per op | RSS per conn | errors |",
         "|---|---|---|---|---|---|---|"]
plot = []
for label, rs in rows.items():
    rate = med([x["deliveries_per_s"] if x["mode"] == "broadcast" else x["per_s"] for x in rs])
    cpu = med([sum(s["cpu_pct"] for s in x.get("servers", [])) for x in rs])
    per_op = (cpu / 100.0) * 1e6 / rate if rate else 0
    rss = med([x["servers"][0]["rss_growth_per_conn_b"] for x in rs if x.get("servers")])
    errs = sum(x["errors"] for x in rs)
    if rs[0]["mode"] == "idle":
        lines.append(f"| {label} | | | | | {rss/1024:.1f} KiB | {errs} |")
    else:
        lines.append(f"| {label} | {rate:,.0f} | {med([x['p50_us'] for x in rs]):.0f} | "
                     f"{med([x['p99_us'] for x in rs]):.0f} | {per_op:.1f} | | {errs} |")
        plot.append((label, rate))
table = "\n".join(lines) + (f"\n\nmedians of {max(len(v) for v in rows.values())} pass(es); "
                            "server on core 0, loadgen on core 1\n")
open(out + "/table.md", "w").write(table)
# One colour per server (gnuplot's line types 1, 2 and 4: purple, green, orange).
colour = {"nanocaf": 1, "raw-asio": 2, "raw": 2, "pinus": 4}
with open(out + "/plot.dat", "w") as f:
    for label, rate in plot:
        f.write(f'"{label}" {rate:.0f} {colour.get(label.split()[0], 1)}\n')
print(table)

if shutil.which("gnuplot"):
    subprocess.run(["gnuplot"], check=True, text=True, input=f"""
set terminal pngcairo size 1200,640 noenhanced
set rmargin 24
set bmargin 14
set output "{out}/plot.png"
set style fill solid 0.8
set boxwidth 0.6
set ylabel "operations per second"
set xtics rotate by -30
set grid ytics
set title "{title} (server core 0, client core 1; purple nanocaf, green raw Asio, orange pinus)"
plot "{out}/plot.dat" using 0:2:3:xtic(1) with boxes lc variable notitle
""")
    print(f"plot: {out}/plot.png")
