# plots/latency_cdf.gp - CDF of fault latency, one curve per policy.
# sim's JSON has no per-fault latencies; this is the CDF of each vCPU's mean
# fault latency (fault_cycles / faults) over the vCPUs of every run drawn, read
# from the sweep's vcpus.csv (variable vcsv; default: vcpus.csv).
# Variables: plots/common.gp
if (!exists("plotdir")) plotdir = "plots"
load plotdir."/common.gp"
if (!exists("vcsv")) vcsv = "vcpus.csv"

set title "Fault latency: CDF of per-vCPU mean (fault cycles / faults), all vCPUs and runs"
set xlabel "mean fault latency of a vCPU (µs)"
set ylabel "fraction of vCPUs"
unset logscale x
set logscale x 10
set yrange [0:1.02]
set key bottom right
np = words(policies)
array N[np]
do for [i=1:np] {
	stats vcsv using (sel(word(policies, i)) && column("faults") > 0 ? 1 : 0) nooutput
	N[i] = STATS_sum
}
# smooth cumulative sorts by x; the rows of other policies add 0.
plot for [i=1:np] vcsv using (column("faults") > 0 ? us(column("fault_latency_mean_cycles")) : NaN): \
       (sel(word(policies, i)) && column("faults") > 0 && N[i] > 0 ? 1.0 / N[i] : 0) \
       smooth cumulative with steps lc rgb pcolor(word(policies, i)) lw 2 title word(policies, i)
