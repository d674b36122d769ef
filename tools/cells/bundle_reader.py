# %%writefile bundle_reader.py
"""Read a TensorFlow checkpoint (a V2 "tensor bundle") with NumPy alone.

    python bundle_reader.py PREFIX      # list keys, dtypes and shapes

A checkpoint PREFIX is PREFIX.index plus one PREFIX.data-NNNNN-of-MMMMM file
a shard. The index is a table in LevelDB's format: sorted keys, each mapped
to a small protocol buffer that says where a tensor's bytes lie and what
their checksum is. The data files hold the bytes, one tensor after another.
Every block of the index and every tensor carries a CRC32C; this reader
checks them all and raises ValueError, naming the block or the key, when one
does not match or a file is not what it should be. A tensor stored in
slices (a TF1 partitioned variable, or one that a sharding policy split over
data files) is put back together.

Left out, each refused with a ValueError that says so: compressed index
blocks, big-endian checkpoints, and the dtypes NumPy lacks (bfloat16,
quantized, variant, resource). A V1 checkpoint has no .index file at all.
"""

import math
import struct
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

# TensorFlow's DataType numbers (types.proto). Strings become NumPy object
# arrays of bytes, as tf.train.load_checkpoint returns them.
DTYPES = {
    1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16,
    6: np.int8, 7: object, 8: np.complex64, 9: np.int64, 10: np.bool_,
    17: np.uint16, 18: np.complex128, 19: np.float16, 22: np.uint32,
    23: np.uint64,
}  # fmt: skip


def _crc_table():
    table = []
    for n in range(256):
        for _ in range(8):  # the reflected Castagnoli polynomial
            n = (n >> 1) ^ (0x82F63B78 if n & 1 else 0)
        table.append(n)
    return table


CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    """CRC-32C of `data` (bytes), continuing `crc`. A byte at a time in
    Python: about 6 MB/s, enough for a book's checkpoints."""
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def unmask(stored):
    """TensorFlow stores CRCs "masked" (rotated, plus a constant): a CRC of
    bytes that contain their own CRC is weak, and masking breaks that."""
    rotated = (stored - 0xA282EAD8) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF


def varint(buf, pos):
    """The base-128 integer at buf[pos] (7 bits a byte, low bits first, the
    high bit set on all but the last byte) and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if byte < 0x80:
            return value, pos


def fields(message):
    """A protocol buffer's wire format as {field number: [values]}: ints
    for varint and fixed-size fields, bytes for the length-delimited ones
    (strings, nested messages). No schema needed for the few fields read."""
    found, pos = {}, 0
    while pos < len(message):
        tag, pos = varint(message, pos)
        kind = tag & 7
        if kind == 0:
            value, pos = varint(message, pos)
        elif kind in (1, 2, 5):  # fixed64, length-delimited, fixed32
            size, pos = (8, pos) if kind == 1 else (4, pos)
            if kind == 2:
                size, pos = varint(message, pos)
            value = bytes(message[pos : pos + size])
            if len(value) < size:
                raise ValueError("truncated protocol buffer")
            if kind != 2:
                value = int.from_bytes(value, "little")
            pos += size
        else:
            raise ValueError(f"protocol buffer wire type {kind} unknown")
        found.setdefault(tag >> 3, []).append(value)
    return found


def field(found, number, default=0):
    """A field's value: the last one (proto3 keeps the last of repeated
    scalars), or the default when absent (proto3 writes no zeros)."""
    return found.get(number, [default])[-1]


# --- The index: a LevelDB table --------------------------------------------
FOOTER = 48  # two block handles padded to 40 bytes, then the magic number
MAGIC = 0xDB4775248B80FB57


def block(table, offset, size, what):
    """A block's bytes, after the 5-byte trailer that follows it (the
    compression type, then the masked CRC32C of block and type) vouches for
    them."""
    end = offset + size
    if end + 5 > len(table) - FOOTER:
        raise ValueError(f"{what} runs past the end of the table")
    (stored,) = struct.unpack_from("<I", table, end + 1)
    if crc32c(table[offset : end + 1]) != unmask(stored):
        raise ValueError(f"{what} (bytes {offset}-{end}): checksum mismatch")
    if table[end] != 0:  # 1 is Snappy, which TensorFlow never writes here
        raise ValueError(f"{what} is compressed; not supported")
    return table[offset:end]


def block_entries(data):
    """A block's (key, value) pairs. Each key is stored as the number of
    bytes it shares with the key before it, then the rest. The block ends
    with the offsets of the "restart points" (keys stored whole, for binary
    search, which a full scan does not need) and their count."""
    if len(data) < 4:
        raise ValueError("block too short")
    (restarts,) = struct.unpack_from("<I", data, len(data) - 4)
    end, key, pos = len(data) - 4 * (restarts + 1), b"", 0
    while pos < end:
        shared, pos = varint(data, pos)
        unshared, pos = varint(data, pos)
        size, pos = varint(data, pos)
        if shared > len(key) or pos + unshared + size > end:
            raise ValueError("bad entry in block")
        key = key[:shared] + data[pos : pos + unshared]
        pos += unshared + size
        yield key, data[pos - size : pos]


def handle(encoded, pos=0):
    """A block handle: two varints, offset and size."""
    offset, pos = varint(encoded, pos)
    size, pos = varint(encoded, pos)
    return offset, size, pos


def table_entries(table):
    """Every (key, value) of a table: the footer points to the index block,
    whose values point to the data blocks, which hold the entries."""
    if len(table) < FOOTER or struct.unpack("<Q", table[-8:])[0] != MAGIC:
        raise ValueError(
            "not a checkpoint index (no table footer): another kind of file,"
            " or truncated"
        )
    footer = table[-FOOTER:]
    *metaindex, pos = handle(footer)
    index_offset, index_size, _ = handle(footer, pos)
    # TensorFlow's tables have no filters, so the metaindex holds nothing;
    # its checksum is checked all the same.
    block(table, *metaindex, "metaindex block")
    index = block(table, index_offset, index_size, "index block")
    for _, value in block_entries(index):
        offset, size, _ = handle(value)
        yield from block_entries(
            block(table, offset, size, f"data block at byte {offset}")
        )


# --- The bundle: a header, then one entry per tensor -----------------------
class Entry(NamedTuple):
    dtype: int
    shape: tuple
    shard: int
    offset: int
    size: int
    crc: int  # masked, like the blocks'
    slices: list  # [(start, length) per dimension] of each slice, if any


def entry(value):
    """A BundleEntryProto: dtype, shape, shard_id, offset, size, crc32c,
    slices are its fields 1 to 7. A slice (TensorSliceProto) is one extent
    a dimension, a start and a length; no length means all of it."""
    f = fields(value)
    dims = fields(field(f, 2, b"")).get(2, [])  # TensorShapeProto.dim
    shape = tuple(field(fields(dim), 1) for dim in dims)  # Dim.size
    numbers = (field(f, n) for n in (3, 4, 5, 6))
    slices = []
    for proto in f.get(7, []):  # TensorSliceProto, whose field 1 is extent
        extents = map(fields, fields(proto).get(1, []))
        slices.append([(field(x, 1), field(x, 2, -1)) for x in extents])
    return Entry(field(f, 1), shape, *numbers, slices)


def read_index(prefix):
    """PREFIX.index as (number of shards, {key: Entry}), the header
    checked. Keys stay bytes: those of slices are binary."""
    path = Path(f"{prefix}.index")
    try:
        entries = dict(table_entries(path.read_bytes()))
        if b"" not in entries:
            raise ValueError("no header entry")
        # BundleHeaderProto: num_shards, endianness, version (a VersionDef
        # whose field 2 is the oldest reader the format allows; this reads
        # format 1, the only one there is).
        header = fields(entries.pop(b""))
        shards = field(header, 1)
        if field(header, 2) != 0:
            raise ValueError("a big-endian checkpoint; not supported")
        if field(fields(field(header, 3, b"")), 2) > 1:
            raise ValueError("a newer bundle format; not supported")
        entries = {key: entry(value) for key, value in entries.items()}
    except (ValueError, struct.error) as error:
        raise ValueError(f"{path}: {error}") from None
    return shards, entries


def ordered_number(n):
    """OrderedCode's signed number, whose bytes sort as the number does: it
    takes the fewest L bytes that hold it (L bytes hold -2**(7L-1) up to
    2**(7L-1) - 1), big-endian, and flips its first L bits, all copies of
    the sign bit: they count the bytes and put negatives first. L <= 8."""
    length = 1
    while (~n if n < 0 else n) >> (7 * length - 1):
        length += 1
    raw = (n % (1 << 8 * length)).to_bytes(length, "big")
    return bytes([raw[0] ^ (0xFF << (8 - length) & 0xFF)]) + raw[1:]


def slice_key(name, extents):
    """The key under which a partitioned tensor stores one slice: a 0, the
    name (bytes 0 and 255 escaped, then 0 1), the rank, then each extent's
    start and length, in OrderedCode, so that slices sort by position."""
    escaped = b"".join(ESCAPES.get(byte, bytes([byte])) for byte in name)
    key = b"\x00" + escaped + b"\x00\x01"
    key += bytes([1, len(extents)]) if extents else b"\x00"
    for start, length in extents:
        key += ordered_number(start) + ordered_number(length)
    return key


ESCAPES = {0: b"\x00\xff", 255: b"\xff\x00"}


def tensors_of(entries):
    """{key: Entry} of the tensors a reader sees: not the slices."""
    slices = {
        slice_key(key, extents)
        for key, e in entries.items()
        for extents in e.slices
    }
    return {k.decode(): e for k, e in entries.items() if k not in slices}


def numpy_dtype(key, e):
    if e.dtype not in DTYPES:
        raise ValueError(f"{key}: TensorFlow dtype {e.dtype} not supported")
    return np.dtype(DTYPES[e.dtype])


def list_checkpoint(prefix):
    """{key: (NumPy dtype, shape)} of every tensor in the checkpoint."""
    _, entries = read_index(prefix)
    tensors = tensors_of(entries)
    return {k: (numpy_dtype(k, e), e.shape) for k, e in tensors.items()}


def strings(raw, count):
    """A string tensor's bytes: `count` varint lengths, a masked CRC32C of
    the lengths, then the strings back to back. The tensor's CRC32C covers
    each length as a little-endian uint32 (not as its varint), then the
    length CRC as stored, then the strings. Returns (values, CRC32C)."""
    lengths, pos = [], 0
    for _ in range(count):
        length, pos = varint(raw, pos)
        lengths.append(length)
    # A length from 4 GiB on counts as a uint64; no book's string is one.
    crc = crc32c(b"".join(n.to_bytes(4, "little") for n in lengths))
    stored = bytes(raw[pos : pos + 4])
    if len(stored) < 4 or unmask(int.from_bytes(stored, "little")) != crc:
        raise ValueError("checksum mismatch (string lengths)")
    crc, pos = crc32c(stored, crc), pos + 4
    values = np.empty(count, dtype=object)
    for i, length in enumerate(lengths):
        values[i] = bytes(raw[pos : pos + length])
        pos += length
    return values, crc32c(raw[pos - sum(lengths) : pos], crc)


class Shards(dict):
    """The data files of PREFIX, each read whole on first use."""

    def __init__(self, prefix, count):
        self.prefix, self.count = prefix, count

    def __missing__(self, shard):
        if not 0 <= shard < self.count:
            raise ValueError(f"{self.prefix}: no data file {shard}")
        path = Path(f"{self.prefix}.data-{shard:05d}-of-{self.count:05d}")
        self[shard] = path, memoryview(path.read_bytes())
        return self[shard]


def read_tensor(key, e, dtype, shards):
    """The array of one entry that is not partitioned, its CRC32C checked."""
    path, data = shards[e.shard]
    raw = data[e.offset : e.offset + e.size]
    if len(raw) < e.size:
        raise ValueError(f"{key}: {path} is truncated")
    count = math.prod(e.shape)
    if dtype.kind == "O":
        try:
            values, crc = strings(raw, count)
        except ValueError as error:
            raise ValueError(f"{key}: {error} in {path}") from None
    elif e.size != count * dtype.itemsize:
        raise ValueError(f"{key}: {e.size} bytes for shape {e.shape}")
    else:
        # A copy, so that the array owns its memory and can be written.
        values, crc = np.frombuffer(raw, dtype).copy(), crc32c(raw)
    if crc != unmask(e.crc):
        raise ValueError(f"{key}: checksum mismatch in {path}")
    return values.reshape(e.shape)


def read_checkpoint(prefix):
    """{key: NumPy array} of every tensor, each checked against its CRC32C
    (a partitioned one put together from its slices)."""
    count, entries = read_index(prefix)
    shards, tensors = Shards(prefix, count), {}
    for key, e in tensors_of(entries).items():
        dtype = numpy_dtype(key, e)
        if not e.slices:
            tensors[key] = read_tensor(key, e, dtype, shards)
            continue
        whole, covered = np.empty(e.shape, dtype), np.zeros(e.shape, bool)
        for extents in e.slices:
            part = entries.get(slice_key(key.encode(), extents))
            if part is None:
                raise ValueError(f"{key}: slice {extents} missing")
            where = tuple(
                slice(start, None if length == -1 else start + length)
                for start, length in extents
            )
            whole[where] = read_tensor(key, part, dtype, shards)
            covered[where] = True
        if not covered.all():
            raise ValueError(f"{key}: its slices leave gaps")
        tensors[key] = whole
    return tensors


if __name__ == "__main__":
    for key, (dtype, shape) in list_checkpoint(sys.argv[1]).items():
        kind = "string" if dtype.kind == "O" else dtype
        print(f"{key}  {kind}  {list(shape)}")
