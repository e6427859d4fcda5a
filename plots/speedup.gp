# plots/speedup.gp - speed-up of each policy over `abort` (v5.13) against vCPUs:
# makespan(abort) / makespan(policy) at the same other parameters (the CSV's
# speedup_over_abort). Variables: plots/common.gp
if (!exists("plotdir")) plotdir = "plots"
load plotdir."/common.gp"

set title "Speed-up over abort (v5.13: CMOs in user\\_mem\\_abort)"
set ylabel "makespan(abort) / makespan(policy)"
set yrange [0:*]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb pcolor("abort") dt 2 lw 1.5
set label 1 "abort = 1" at graph 0.99, first 1 right offset 0, 0.6 textcolor rgb pcolor("abort") font ",10"
others = ""
do for [p in policies] { if (p ne "abort") { others = others." ".p } }
plot for [p in others] csv using "vcpus":(sel(p) ? column("speedup_over_abort") : NaN) \
     smooth unique with linespoints lc rgb pcolor(p) pt ppoint(p) ps 1.2 title p
