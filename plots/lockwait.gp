# plots/lockwait.gp - kvm->mmu_lock wait per acquisition against vCPUs: p99
# (solid) and mean (dashed), one colour per policy. Variables: plots/common.gp
if (!exists("plotdir")) plotdir = "plots"
load plotdir."/common.gp"

set title "mmu\\_lock wait per acquisition (p99 solid, mean dashed)"
set ylabel "lock wait (µs)"
set logscale y
pos(x) = x > 0 ? x : NaN
plot for [p in policies] csv using "vcpus":(sel(p) ? pos(us(column("lock_wait_p99_cycles"))) : NaN) \
       smooth unique with linespoints lc rgb pcolor(p) pt ppoint(p) ps 1.2 title p." p99", \
     for [p in policies] csv using "vcpus":(sel(p) ? pos(us(column("lock_wait_mean_cycles"))) : NaN) \
       smooth unique with linespoints lc rgb pcolor(p) pt ppoint(p) ps 0.8 dt 2 title p." mean"
