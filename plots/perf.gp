# plots/perf.gp - bench/perf's figure: sim's wall time and peak RSS against
# trace records (migrate, 64 vCPUs; first-touch, 512 vCPUs, 4 KiB pages), and
# time per record against vCPUs (first-touch, 16 GiB).
#   gnuplot -e "csv='BUILD/perf/perf.csv'; out='BUILD/perf/perf.png'" plots/perf.gp
# (bench/perf runs it).  Skipped points (status not "ok") are not drawn.
if (!exists("csv")) csv = "perf.csv"
if (!exists("out")) out = "perf.png"
# the ladders measured (bench/perf --only): a panel without its data is left empty
if (!exists("have")) have = "records mem vcpus"
has(l) = strstrt(have, l) > 0

set terminal pngcairo size 1500,480 enhanced font "Sans,11" linewidth 1.5
set output out
set datafile separator comma
set datafile columnheaders
set datafile missing NaN
set grid
set key top left

# the value of column c on rows of ladder l that were measured, else NaN
on(l, c) = (strcol("ladder") eq l && strcol("status") eq "ok") ? column(c) : NaN

set multiplot layout 1, 3 title "bench/perf: sim --quiet on binary traces (one shared 2-core machine)"

set title "wall time"
set logscale xy
set format x "10^{%L}"
set xlabel "trace records"
set ylabel "seconds"
if (has("records") && has("mem")) {
	plot csv using (on("records", "records")):(on("records", "sim_s")) \
	         with linespoints pt 7 title "migrate, 64 vCPUs, thp", \
	     "" using (on("mem", "records")):(on("mem", "sim_s")) \
	         with linespoints pt 5 title "first-touch, 512 vCPUs, 4k", \
	     "" using (on("mem", "records")):(on("mem", "records") / 5e6) \
	         with lines dt 2 lc "gray" title "5 M records/s"
} else { if (has("records")) {
	plot csv using (on("records", "records")):(on("records", "sim_s")) \
	         with linespoints pt 7 title "migrate, 64 vCPUs, thp"
} else { if (has("mem")) {
	plot csv using (on("mem", "records")):(on("mem", "sim_s")) \
	         with linespoints pt 5 title "first-touch, 512 vCPUs, 4k"
} else {
	set xrange [1e4:1e9]; set yrange [0.01:100]; plot NaN notitle; unset xrange; unset yrange
} } }

set title "peak resident memory"
set ylabel "MiB"
if (has("records") && has("mem")) {
	plot csv using (on("records", "records")):(on("records", "peak_rss_kib") / 1024) \
	         with linespoints pt 7 title "migrate, 64 vCPUs, thp", \
	     "" using (on("mem", "records")):(on("mem", "peak_rss_kib") / 1024) \
	         with linespoints pt 5 title "first-touch, 512 vCPUs, 4k", \
	     "" using (on("mem", "records")):(on("mem", "records") * 16 / 1048576.0) \
	         with lines dt 2 lc "gray" title "16 bytes per 4 KiB page"
} else { if (has("records")) {
	plot csv using (on("records", "records")):(on("records", "peak_rss_kib") / 1024) \
	         with linespoints pt 7 title "migrate, 64 vCPUs, thp"
} else { if (has("mem")) {
	plot csv using (on("mem", "records")):(on("mem", "peak_rss_kib") / 1024) \
	         with linespoints pt 5 title "first-touch, 512 vCPUs, 4k"
} else {
	set xrange [1e4:1e9]; set yrange [1:10000]; plot NaN notitle; unset xrange; unset yrange
} } }

set title "time per record against vCPUs (first-touch, 16 GiB, 4k)"
set logscale x 2
unset logscale y
set format x "%g"
set xlabel "vCPUs"
set ylabel "ns per record"
set yrange [0:*]
if (has("vcpus")) {
	plot csv using (on("vcpus", "vcpus")):(on("vcpus", "ns_per_record")) \
	         with linespoints pt 7 title "first-touch"
} else {
	set xrange [8:512]; set yrange [0:500]; plot NaN notitle
}

unset multiplot
