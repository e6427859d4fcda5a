# plots/palette.gp - the colours, points and labels every figure uses, so
# that a policy (or a kind of cycles) looks the same in every plot.
# Loaded by plots/common.gp and plots/timeline.gp.

# Policies (model/policies.ini). Unknown ones are grey.
pci(p) = p eq "abort" ? 0xd62728 : \
         p eq "handler" ? 0x1f77b4 : \
         p eq "handler-rw" ? 0x17becf : \
         p eq "parallel" ? 0x2ca02c : \
         p eq "parallel-eager-split" ? 0x9467bd : \
         p eq "prelock-cmo" ? 0xff7f0e : 0x7f7f7f
pcolor(p) = sprintf("#%06x", pci(p))
# Point types differ too, for grey-scale print.
ppoint(p) = p eq "abort" ? 7 : p eq "handler" ? 5 : p eq "handler-rw" ? 9 : \
            p eq "parallel" ? 11 : p eq "parallel-eager-split" ? 13 : p eq "prelock-cmo" ? 15 : 1

# Where the cycles go: sim's cycles_by_kind, and the timeline's activities.
allkinds = "exit_entry handler lock_wait dcache_clean icache_inval tlbi host_zeroing pgtable_pages mmio"
kci(k) = k eq "guest" ? 0xd9d9d9 : \
         k eq "barrier" ? 0xf2f2f2 : \
         k eq "exit_entry" ? 0x8c564b : \
         k eq "handler" ? 0x1f77b4 : \
         k eq "lock_wait" ? 0xd62728 : \
         k eq "dcache_clean" ? 0xff7f0e : \
         k eq "icache_inval" ? 0xbcbd22 : \
         k eq "tlbi" ? 0x9467bd : \
         k eq "host_zeroing" ? 0x2ca02c : \
         k eq "pgtable_pages" ? 0x17becf : \
         k eq "mmio" ? 0xe377c2 : 0x7f7f7f
kcolor(k) = sprintf("#%06x", kci(k))
klabel(k) = k eq "exit_entry" ? "exit/entry" : \
            k eq "handler" ? "handler + walk" : \
            k eq "lock_wait" ? "mmu\\_lock wait" : \
            k eq "dcache_clean" ? "D-cache clean" : \
            k eq "icache_inval" ? "I-cache inval." : \
            k eq "tlbi" ? "TLBI" : \
            k eq "host_zeroing" ? "host zeroing" : \
            k eq "pgtable_pages" ? "page-table pages" : \
            k eq "mmio" ? "MMIO exit" : \
            k eq "guest" ? "in guest" : \
            k eq "barrier" ? "barrier" : k
