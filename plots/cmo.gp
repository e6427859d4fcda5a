# plots/cmo.gp - D-cache clean to PoC: bytes cleaned, and the bytes the policy
# avoided compared with v5.13's site (dclean_abort_site_bytes - dclean_bytes).
# Variables: plots/common.gp
if (!exists("plotdir")) plotdir = "plots"
load plotdir."/common.gp"

set multiplot layout 1, 2 title "D-cache clean to PoC (DC CIVAC)"
set ylabel "bytes cleaned (MiB)"
set yrange [0:*]
set title "cleaned"
plot for [p in policies] csv using "vcpus":(sel(p) ? MiB(column("dclean_bytes")) : NaN) \
     smooth unique with linespoints lc rgb pcolor(p) pt ppoint(p) ps 1.2 title p
set title "avoided vs. CMOs in user\\_mem\\_abort (v5.13)"
set ylabel "bytes not cleaned (MiB)"
unset label 999
plot for [p in policies] csv using "vcpus":(sel(p) ? MiB(column("cmo_avoided_bytes")) : NaN) \
     smooth unique with linespoints lc rgb pcolor(p) pt ppoint(p) ps 1.2 title p
unset multiplot
