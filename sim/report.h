/*
 * sim/report.h - the run's summary (text) and its JSON form.
 */
#ifndef S2SIM_REPORT_H
#define S2SIM_REPORT_H

#include <stdio.h>

#include "sim.h"

void s2_report_summary(FILE *out, const struct s2_sim *sim, const char *trace_path);
/* Newly allocated, pretty-printed; the same inputs give the same bytes. */
char *s2_report_json(const struct s2_sim *sim, const char *trace_path);

#endif
