/*
 * tests/fuzz/fuzz_import.c - the kernel-trace importers (traces/import*.c)
 * through their public entry point, s2_import_open().
 *
 * The first byte chooses: bits 0-1 the format (auto-detection or one of
 * s2_import_formats[]), bit 2 whether to pass the shipped example layout
 * (tests/data/import-layout.txt, so slots decide what is MMIO); the rest
 * is the text.
 */
#include "fuzz.h"
#include "import.h"

static const char layout[] =
	"ipa-bits 40\nfreq-mhz 2000\n"
	"memslot 0 gpa=0x0 size=64M backing=4k readonly\n"
	"memslot 1 gpa=0x40000000 size=1G backing=thp\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct s2_import_format *fmt = NULL;
	struct s2_import_stats st;
	const char *path, *layout_path = NULL;
	GError *err = NULL;
	size_t nr_formats = 0;

	if (!size)
		return 0;
	while (s2_import_formats[nr_formats])
		nr_formats++;
	if (data[0] & 3)
		fmt = s2_import_formats[((data[0] & 3) - 1) % nr_formats];
	if (data[0] & 4)
		layout_path = fuzz_path(1, (const uint8_t *)layout, sizeof(layout) - 1);
	path = fuzz_path(0, data + 1, size - 1);
	fuzz_drain(s2_import_open(path, fmt, layout_path, &st, &err), err);
	return 0;
}
