#!/usr/bin/env python3
"""tests/bad-input/make-binary.py - write the binary cases of the bad-input
corpus (bin-*.bin, zstd-*.zst) into this directory, byte for byte as
committed.  Each is a small, otherwise valid binary trace (traces/FORMAT.md,
"Binary format") with one thing wrong; the checksums are right unless the
checksum is the thing that is wrong.  Needs the zstd command for zstd-*.
Run it by hand after changing a case; the .expect files are written by hand.
"""
import os
import struct
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
FNV_INIT, FNV_PRIME, MASK = 0xcbf29ce484222325, 0x100000001b3, (1 << 64) - 1


def fnv(h, data):
    i = 0
    while i + 8 <= len(data):
        h = ((h ^ struct.unpack_from("<Q", data, i)[0]) * FNV_PRIME) & MASK
        i += 8
    for b in data[i:]:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def rec(code, field=0, delta=0, v=0):
    """One 16-byte record: delta, code | field << 8, value."""
    return struct.pack("<IIQ", delta, code | field << 8, v)


GOOD_SLOT = (0, 1, 0x40000000, 1 << 30, 0x7F0040000000)   # id, flags (thp), gpa, size, hva
GOOD_RECS = [rec(0, 0, 10, 0x40000000), rec(1, 1, 20, 0x40001000)]


def binary(vcpus=2, ipa_bits=40, slots=(GOOD_SLOT,), recs=GOOD_RECS, phases=(),
           version=2, nr_slots=None, sums=True, phases_first=False):
    slot_bytes = b"".join(struct.pack("<IIQQQ", *s) for s in slots)
    ph = b"".join(struct.pack("<H", len(p)) + p for p in phases)
    ph += b"\0" * (-len(ph) % 16)
    records = b"".join(recs)
    tables = 80 + len(slot_bytes)
    if phases_first:
        ph_off, rec_off = tables, tables + len(ph)
    else:
        rec_off, ph_off = tables, tables + len(records)
    nslots = len(slots) if nr_slots is None else nr_slots

    def fixed(rsum, hsum):
        return (b"S2SIMBIN" + struct.pack("<IBBHIIII", version, 0, ipa_bits, nslots, 0, vcpus,
                                          len(phases), 0)
                + struct.pack("<QQQQQQ", rec_off, len(records) // 16, ph_off, len(ph), rsum, hsum))

    rsum = fnv(FNV_INIT, records) if sums else 0
    hsum = fnv(fnv(fnv(FNV_INIT, fixed(rsum, 0)), slot_bytes), ph) if sums else 0
    body = ph + records if phases_first else records + ph
    return fixed(rsum, hsum) + slot_bytes + body


def flip(data, off):
    b = bytearray(data)
    b[off] ^= 0x01
    return bytes(b)


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c", "--no-check"], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


good = binary()
cases = {
    "bin-truncated-header.bin": good[:40],
    "bin-wrong-magic.bin": b"S2SIMBIX" + good[8:],
    "bin-unknown-version.bin": binary(version=7),
    "bin-header-checksum.bin": flip(good, 80 + 8),            # a memslot's gpa
    "bin-records-checksum.bin": flip(good, 80 + 32 + 8),      # the first record's IPA
    "bin-truncated-records.bin": binary()[:-16],
    "bin-trailing-data.bin": good + b"\0" * 16,
    "bin-vcpu-out-of-range.bin": binary(recs=[rec(0, 5, 10, 0x40000000)]),
    "bin-unknown-kind.bin": binary(recs=[rec(12, 0, 10, 0x40000000)]),
    "bin-dangling-extension.bin": binary(recs=GOOD_RECS + [rec(15, 0, 0, 1 << 40)]),
    "bin-reserved-bits.bin": binary(recs=[rec(0x30, 0, 10, 0x40000000)]),
    "bin-too-many-memslots.bin": binary(nr_slots=65),
    "bin-ipa-outside-space.bin": binary(recs=[rec(0, 0, 10, 1 << 41)]),
    "bin-overlapping-memslots.bin": binary(slots=(GOOD_SLOT, (1, 0, 0x7FF00000, 2 << 20,
                                                              0x7F007FF00000))),
    "bin-ipa-bits-64.bin": binary(ipa_bits=64),
    "bin-huge-delta.bin": binary(recs=[rec(15, 0, 0, 1 << 60), rec(0, 0, 0xFFFFFFFF, 0x40000000)]),
    "bin-vcpus-zero.bin": binary(vcpus=0),
    "bin-phase-name-blank.bin": binary(phases=(b"two words",), recs=[rec(6, 0, 0, 0)]),
    "zstd-truncated.zst": zstd(binary(phases_first=True))[:-9],
    "zstd-phases-after-records.zst": zstd(binary(phases=(b"boot",), recs=[rec(6, 0, 0, 0)])),
    "zstd-garbage.zst": bytes([0x28, 0xB5, 0x2F, 0xFD]) + b"\x55" * 60,
}
for name, data in cases.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
print(len(cases), "binary cases written")
