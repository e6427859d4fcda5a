# plots/timeline.gp - Gantt chart of a `sim --timeline` run: one row per vCPU,
# a coloured box for each activity (in guest, exit/entry, handler, lock wait,
# CMOs, TLBI, ...). Feed it plots/timeline2dat's output:
#   plots/timeline2dat run.timeline.json --window 0:2000000 -o tl.dat
#   gnuplot -e "dat='tl.dat'; out='timeline'" plots/timeline.gp
# Variables: dat, out, fmt (png|svg|pdf), caption, nvcpu (rows), kinds (legend,
# from the data file's "# kinds" line), t0/t1 (x range in µs; default: the data).
if (!exists("plotdir")) plotdir = "plots"
if (!exists("dat")) dat = "timeline.dat"
if (!exists("fmt")) fmt = "png"
if (!exists("out")) out = "timeline"
if (!exists("caption")) caption = ""
if (!exists("kinds")) kinds = "guest ".allkinds." barrier"
load plotdir."/palette.gp"

if (!exists("nvcpu")) {
	stats dat using 1 nooutput
	nvcpu = int(STATS_max) + 1
}
h = nvcpu > 16 ? 680 + (nvcpu - 16) * 22 : 680
if (fmt eq "png") set terminal pngcairo size 1200,h enhanced font "Sans,12"
if (fmt eq "svg") set terminal svg size 1200,h enhanced font "Sans,12" background "white"
if (fmt eq "pdf") set terminal pdfcairo size 8in,(h / 150.0)in enhanced font "Sans,10"
set output out.".".fmt

set title "Per-vCPU activity"
set xlabel "time (µs)"
set ylabel ""
set yrange [nvcpu - 0.5:-0.5]
set ytics 1 out nomirror
if (nvcpu > 32) set ytics nvcpu / 16
set format y "vCPU %.0f"
set xtics out nomirror
set grid xtics lc rgb "#e0e0e0"
set border 3
set bmargin 5.5
set key outside right top Left reverse samplen 1.5
set style fill solid 1.0 noborder
set label 999 caption at screen 0.01, screen 0.025 left font ",9" textcolor rgb "#404040" noenhanced
set autoscale xfix
if (exists("t0") && exists("t1")) set xrange [t0:t1]
plot dat using (($2 + $3) / 2):1:2:3:($1 - 0.38):($1 + 0.38):(kci(strcol(4))) \
       with boxxyerror lc rgb variable notitle, \
     for [k in kinds] NaN with boxes lc rgb kcolor(k) title klabel(k)
