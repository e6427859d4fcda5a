# plots/cycles.gp - where the fault cycles go: sim's cycles_by_kind, summed
# over the vCPUs and divided by their number, stacked, one bar per policy in a
# cluster per vCPU count. Variables: plots/common.gp, and kinds (the
# cycles_by_kind names to stack, bottom first; default all).
if (!exists("plotdir")) plotdir = "plots"
load plotdir."/common.gp"
if (!exists("kinds")) kinds = allkinds

set title "Where the fault cycles go (mean per vCPU)"
set ylabel "time in faults per vCPU (ms)"
unset logscale x
unset offsets
set xlabel "policy, vCPUs" offset 0, -1.5
set grid noxtics
np = words(policies); nv = words(vlist); nk = words(kinds)
vidx(v) = sum [vi=1:nv] (word(vlist, vi) + 0 == v ? vi : 0)
pidx(p) = sum [pj=1:np] (word(policies, pj) eq p ? pj : 0)
bx(v, p) = (vidx(v) - 1) * (np + 1) + pidx(p)
cum(k) = sum [kj=1:k] column("kind_".word(kinds, kj)."_cycles")
set xrange [0:nv * (np + 1)]
set yrange [0:*]
set xtics () rotate by 35 right font ",9"
do for [vi=1:nv] {
	do for [pj=1:np] {
		set xtics add (word(policies, pj) (vi - 1) * (np + 1) + pj)
	}
	set label 100 + vi word(vlist, vi).(word(vlist, vi) eq "1" ? " vCPU" : " vCPUs") at first (vi - 1) * (np + 1) + (np + 1) / 2.0, graph 1 center offset 0, -1 font ",10"
}
set boxwidth 0.8 absolute
set style fill solid 0.95 border lc rgb "#ffffff"
set key outside right top Left reverse
set offsets 0, 0, graph 0.08, 0
plot for [k=nk:1:-1] csv using (ingroup(0) ? bx(column("vcpus"), strcol("policy")) : NaN): \
       (ingroup(0) ? ms(cum(k)) / column("vcpus") : NaN) \
       with boxes lc rgb kcolor(word(kinds, k)) title klabel(word(kinds, k))
