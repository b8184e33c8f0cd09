package sqldb

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// A block of many entries is stored compressed (zstd, fastest level): the
// entries of a block repeat the same keys, actors, roles and addresses, so
// its body shrinks to about a sixth, and the commit that appends it, the
// checkpoint that copies it into the database file and the disk all handle
// that much less. The chain hashes the entries' canonical bytes, not the
// stored form, so verification is unchanged. Blocks of fewer entries (a
// write's single entry) are stored plain, as every block was before: a
// stored body that begins with the zstd magic number is a frame, anything
// else is the lines themselves.

// blockPackMin is the fewest entries a block needs to be stored compressed.
const blockPackMin = 8

// maxBlockBytes bounds the lines of one block, decompressed: more than a
// block can hold (maxAuditBatch entries of a few kilobytes at most), so a
// frame that claims more is damaged.
const maxBlockBytes = 256 << 20

var blockCodec = newBlockCodec()

type blockCodecs struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newBlockCodec() *blockCodecs {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false))
	if err != nil {
		panic(err) // only for invalid options
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxBlockBytes))
	if err != nil {
		panic(err)
	}
	return &blockCodecs{enc: enc, dec: dec}
}

// packBlock returns the stored form of a block's lines.
func packBlock(lines []byte, entries int) []byte {
	if entries < blockPackMin {
		return lines
	}
	return packInto(make([]byte, 0, len(lines)/4+64), lines)
}

// packInto appends the compressed form of a block's lines to dst.
func packInto(dst, lines []byte) []byte {
	return blockCodec.enc.EncodeAll(lines, dst)
}

// unpackBlock returns the lines of a block's stored form, decompressed into
// buf's space if it is a frame. A frame that does not decompress is an
// error: the block was altered.
func unpackBlock(stored, buf []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, zstdMagic) {
		return stored, nil
	}
	lines, err := blockCodec.dec.DecodeAll(stored, buf[:0])
	if err != nil {
		return nil, fmt.Errorf("sqldb: an audit block does not decompress: %w", err)
	}
	return lines, nil
}
