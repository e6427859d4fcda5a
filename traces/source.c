/*
 * traces/source.c - what every encoding shares: opening a trace by sniffing
 * its first bytes, closing it, and the atomic writer's temp-file-and-rename.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

#define SNIFF_LEN	16

enum encoding {
	ENC_TEXT,
	ENC_BINARY,
	ENC_BINARY_ZSTD,
	ENC_UNKNOWN,
};

/*
 * Text traces are printable from their first byte (a comment or the magic
 * line); a control byte among the first 16 that is not a known magic means
 * a damaged or foreign binary file, which the text reader would only
 * report as a confusing line error.
 */
static enum encoding sniff(const uint8_t *b, size_t len)
{
	if (len >= 8 && !memcmp(b, S2_BINARY_MAGIC, 8))
		return ENC_BINARY;
	if (len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return ENC_BINARY_ZSTD;
	for (size_t i = 0; i < len; i++)
		if (b[i] < 0x20 && b[i] != '\n' && b[i] != '\r' && b[i] != '\t')
			return ENC_UNKNOWN;
	return ENC_TEXT;
}

struct s2_source *s2_source_open(const char *path, GError **err)
{
	uint8_t head[SNIFF_LEN];
	size_t len;
	FILE *f = fopen(path, "r");

	if (!f) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		return NULL;
	}
	len = fread(head, 1, sizeof(head), f);
	rewind(f);
	switch (sniff(head, len)) {
	case ENC_BINARY:
		return s2_binary_source_open(path, f, false, err);
	case ENC_BINARY_ZSTD:
		return s2_binary_source_open(path, f, true, err);
	case ENC_TEXT:
		return s2_text_source_open(path, f, err);
	default:
		fclose(f);
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
			    "%s: header: wrong magic: not an s2sim trace (text, binary or zstd-compressed binary)",
			    path);
		return NULL;
	}
}

void s2_source_close(struct s2_source *src)
{
	if (!src)
		return;
	src->ops->close(src);
	s2_trace_header_clear(&src->hdr);
	g_free(src->path);
	g_free(src);
}


bool s2_writer_init(struct s2_writer *w, const struct s2_writer_ops *ops,
		    const char *path, const struct s2_trace_header *hdr,
		    GError **err)
{
	mode_t um;
	int fd;

	w->ops = ops;
	w->hdr = hdr;
	w->path = g_strdup(path);
	w->tmp_path = g_strdup_printf("%s.tmp.XXXXXX", path);
	fd = g_mkstemp(w->tmp_path);
	if (fd < 0) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		goto fail;
	}
	/* mkstemp makes 0600; a trace is an ordinary file, readable as umask allows */
	um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	w->f = fdopen(fd, "w");
	if (!w->f) {
		close(fd);
		unlink(w->tmp_path);
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		goto fail;
	}
	return true;
fail:
	g_free(w->path);
	g_free(w->tmp_path);
	return false;
}

bool s2_writer_put(struct s2_writer *w, const struct s2_record *rec, GError **err)
{
	if (!w->ops->put(w, rec, err))
		return false;
	w->nr_records++;
	return true;
}

static void writer_free(struct s2_writer *w)
{
	if (w->ops->free)
		w->ops->free(w);
	g_free(w->path);
	g_free(w->tmp_path);
	g_free(w);
}

bool s2_writer_commit(struct s2_writer *w, GError **err)
{
	bool ok = !w->ops->finish || w->ops->finish(w, err);

	if (ok && (fflush(w->f) || ferror(w->f) || fsync(fileno(w->f)))) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: write error: %s",
			    w->path, g_strerror(errno));
		ok = false;
	}
	if (fclose(w->f) && ok) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", w->path,
			    g_strerror(errno));
		ok = false;
	}
	if (ok && rename(w->tmp_path, w->path)) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", w->path,
			    g_strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(w->tmp_path);
	writer_free(w);
	return ok;
}

void s2_writer_abort(struct s2_writer *w)
{
	if (!w)
		return;
	fclose(w->f);
	unlink(w->tmp_path);
	writer_free(w);
}
