/*
 * sim/timeline.c - stream spans into a trace-event JSON file.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "timeline.h"

struct s2_timeline {
	FILE *f;
	char *path, *tmp;
	double cycles_per_us;
	uint64_t win_start, win_end;
	bool first;
};

struct s2_timeline *s2_timeline_open(const char *path, uint64_t freq_mhz, uint64_t win_start,
				     uint64_t win_end, GError **err)
{
	struct s2_timeline *tl = g_new0(struct s2_timeline, 1);
	int fd;

	tl->path = g_strdup(path);
	tl->tmp = g_strdup_printf("%s.tmp.XXXXXX", path);
	fd = g_mkstemp(tl->tmp);
	if (fd < 0 || !(tl->f = fdopen(fd, "w"))) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
			    g_strerror(errno));
		if (fd >= 0) {
			close(fd);
			g_unlink(tl->tmp);
		}
		g_free(tl->tmp);
		g_free(tl->path);
		g_free(tl);
		return NULL;
	}
	tl->cycles_per_us = (double)freq_mhz;
	tl->win_start = win_start;
	tl->win_end = win_end;
	tl->first = true;
	fprintf(tl->f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
	return tl;
}

static void sep(struct s2_timeline *tl)
{
	if (!tl->first)
		fputs(",\n", tl->f);
	tl->first = false;
}

void s2_timeline_span(struct s2_timeline *tl, uint32_t vcpu, const char *name,
		      uint64_t start, uint64_t cycles)
{
	uint64_t end = start + cycles;

	if (!cycles || end <= tl->win_start || start >= tl->win_end)
		return;
	start = MAX(start, tl->win_start);
	end = MIN(end, tl->win_end);
	sep(tl);
	fprintf(tl->f, "{\"name\":\"%s\",\"cat\":\"vcpu\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,"
		"\"ts\":%.4f,\"dur\":%.4f,\"args\":{\"start_cycles\":%" G_GUINT64_FORMAT
		",\"cycles\":%" G_GUINT64_FORMAT "}}", name, vcpu, start / tl->cycles_per_us,
		(end - start) / tl->cycles_per_us, start, end - start);
}

static void free_timeline(struct s2_timeline *tl)
{
	g_free(tl->path);
	g_free(tl->tmp);
	g_free(tl);
}

bool s2_timeline_commit(struct s2_timeline *tl, uint32_t nr_vcpus, GError **err)
{
	bool ok;

	for (uint32_t i = 0; i <= nr_vcpus; i++) {
		sep(tl);
		if (i < nr_vcpus)
			fprintf(tl->f, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
				"\"args\":{\"name\":\"vCPU %u\"}}", i, i);
		else
			fprintf(tl->f, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
				"\"args\":{\"name\":\"host (MMU notifiers)\"}}", i);
	}
	fprintf(tl->f, "\n]}\n");
	ok = !fflush(tl->f) && !ferror(tl->f);
	ok = !fclose(tl->f) && ok;
	ok = ok && !g_rename(tl->tmp, tl->path);
	if (!ok) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", tl->path,
			    g_strerror(errno));
		g_unlink(tl->tmp);
	}
	free_timeline(tl);
	return ok;
}

void s2_timeline_abort(struct s2_timeline *tl)
{
	if (!tl)
		return;
	fclose(tl->f);
	g_unlink(tl->tmp);
	free_timeline(tl);
}
