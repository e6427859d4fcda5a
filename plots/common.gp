# plots/common.gp - loaded first by every figure script fed by the sweep CSV.
#
# Variables, set with gnuplot -e "name='value'" (bench/plot sets them all):
#   csv       the sweep's results.csv (default results.csv)
#   out       output file without extension (default: the script's name)
#   fmt       png, svg or pdf (default png)
#   caption   the line under the figure (profile, workload, ...)
#   gkeys     blank-separated columns, and
#   gvals     their values: only rows matching all of them are drawn
#             (one figure per profile/workload/...; empty: every row)
#   policies  the policies to draw, in legend order (default "abort handler")
#   vlist     the vCPU counts in the CSV, ascending (for bar positions)
#   logx      1: log2 vCPU axis (default 1)
if (!exists("csv")) csv = "results.csv"
if (!exists("fmt")) fmt = "png"
if (!exists("out")) out = "figure"
if (!exists("caption")) caption = ""
if (!exists("gkeys")) gkeys = ""
if (!exists("gvals")) gvals = ""
if (!exists("policies")) policies = "abort handler"
if (!exists("vlist")) vlist = "1 2 4 8 16 32 64"
if (!exists("logx")) logx = 1

load sprintf("%s/palette.gp", plotdir)

set datafile separator comma
# A filtered-out row is NaN; treat it as missing so that lines join the rest.
set datafile missing NaN

if (fmt eq "png") set terminal pngcairo size 1000,680 enhanced font "Sans,12" linewidth 1.5
if (fmt eq "svg") set terminal svg size 1000,680 enhanced font "Sans,12" linewidth 1.5 background "white"
if (fmt eq "pdf") set terminal pdfcairo size 6.5in,4.4in enhanced font "Sans,10" linewidth 1.5
set output out.".".fmt

# The row belongs to the figure's group and to policy p.
ngk = words(gkeys)
ingroup(dummy) = ngk == 0 ? 1 : (sum [gi=1:ngk] (strcol(word(gkeys, gi)) eq word(gvals, gi) ? 0 : 1)) == 0
sel(p) = ingroup(0) && strcol("policy") eq p
# Per-row unit conversions (the profile's clock, MHz, is a column).
us(c) = c / column("freq_mhz")
ms(c) = c / (column("freq_mhz") * 1000.0)
MiB(b) = b / 1048576.0

set grid back lc rgb "#e0e0e0" lt 1
set border 3 back
set tics nomirror out
set key top left Left reverse noautotitle samplen 2.5 spacing 1.1 box lc rgb "#c0c0c0"
set bmargin 5.5
set label 999 caption at screen 0.01, screen 0.025 left font ",9" textcolor rgb "#404040" noenhanced

set xlabel "vCPUs"
if (logx) set logscale x 2
set autoscale xfix
set offsets graph 0.03, graph 0.03, graph 0.03, graph 0.03
