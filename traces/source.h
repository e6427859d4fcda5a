/*
 * traces/source.h - read a trace file record by record, whatever its encoding,
 * and write one atomically.
 *
 * A source yields the header once and then records in file order.  The
 * encoding is detected from the first bytes of the file, so callers never
 * name it.  Errors carry "file:line: what is wrong" (or "file: record N: ..."
 * for binary input) in their message.
 */
#ifndef S2SIM_SOURCE_H
#define S2SIM_SOURCE_H

#include <stdio.h>

#include "trace.h"

struct s2_source;

struct s2_source_ops {
	/* 1: a record in *rec; 0: end of trace; -1: error in *err. */
	int (*next)(struct s2_source *src, struct s2_record *rec, GError **err);
	void (*close)(struct s2_source *src);
};

struct s2_source {
	const struct s2_source_ops *ops;
	struct s2_trace_header hdr;
	char *path;
	const char *encoding;	/* "text", "binary", "binary-zstd", "import" */
};

struct s2_source *s2_source_open(const char *path, GError **err);
struct s2_source *s2_text_source_open(const char *path, FILE *f, GError **err);
/*
 * The binary encoding (traces/FORMAT.md): a plain file is read with pread()
 * into a window, a zstd-compressed one by streaming decompression.  Takes @f either way.
 */
#define S2_BINARY_MAGIC		"S2SIMBIN"
#define S2_BINARY_VERSION	2	/* 2: guest events and host records */
#define S2_BINARY_RECORD	16
struct s2_source *s2_binary_source_open(const char *path, FILE *f, bool zstd,
					GError **err);
/* The binary checksum: 64-bit FNV-1a over little-endian 64-bit words. */
#define S2_BINARY_SUM_INIT	0xcbf29ce484222325ULL
uint64_t s2_binary_checksum(uint64_t sum, const void *buf, size_t len);

/*
 * A layout file: the body of a text header (ipa-bits, freq-mhz, memslot
 * lines; no magic, no vcpus, no unit).  Replaces *h on success.
 */
bool s2_layout_load(const char *path, struct s2_trace_header *h, GError **err);
void s2_source_close(struct s2_source *src);

static inline int s2_source_next(struct s2_source *src, struct s2_record *rec,
				 GError **err)
{
	return src->ops->next(src, rec, err);
}

/*
 * Writers build the file next to its destination and rename it into place on
 * commit, so a failed or interrupted run never leaves a partial trace.
 */
struct s2_writer;

struct s2_writer_ops {
	bool (*put)(struct s2_writer *w, const struct s2_record *rec, GError **err);
	bool (*finish)(struct s2_writer *w, GError **err);	/* flush, before rename */
	void (*free)(struct s2_writer *w);
};

struct s2_writer {
	const struct s2_writer_ops *ops;
	const struct s2_trace_header *hdr;
	char *path;
	char *tmp_path;
	FILE *f;
	uint64_t nr_records;
};

struct s2_writer *s2_text_writer_open(const char *path,
				      const struct s2_trace_header *hdr,
				      GError **err);
/* @compress: one zstd frame holding the plain binary file. */
struct s2_writer *s2_binary_writer_open(const char *path,
					const struct s2_trace_header *hdr,
					bool compress, GError **err);
bool s2_writer_put(struct s2_writer *w, const struct s2_record *rec, GError **err);
bool s2_writer_commit(struct s2_writer *w, GError **err);
void s2_writer_abort(struct s2_writer *w);

/* Shared by writers: open PATH.tmp.XXXXXX beside PATH. */
bool s2_writer_init(struct s2_writer *w, const struct s2_writer_ops *ops,
		    const char *path, const struct s2_trace_header *hdr,
		    GError **err);

#endif
