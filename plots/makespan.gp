# plots/makespan.gp - makespan against vCPUs, one line per policy (log-log).
# gnuplot -e "csv='OUT/results.csv'" plots/makespan.gp; variables: plots/common.gp
if (!exists("plotdir")) plotdir = "plots"
load plotdir."/common.gp"

set title "Makespan: until the last vCPU finished its trace"
set ylabel "makespan (ms)"
set logscale y
plot for [p in policies] csv using "vcpus":(sel(p) ? ms(column("makespan_cycles")) : NaN) \
     smooth unique with linespoints lc rgb pcolor(p) pt ppoint(p) ps 1.2 title p
