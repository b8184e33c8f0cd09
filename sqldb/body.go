package sqldb

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Resource bodies are stored compressed with zstd (fastest level), which
// halves the bytes of typical FHIR JSON and so the pages each commit writes.
// A stored body that starts with '{' is plain JSON (written before
// compression, or by hand); one that starts with the zstd magic number is
// compressed. Both read back as the same bytes.

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// defaultCodec is shared by every database: zstd encoders and decoders are
// safe for concurrent use and costly to make.
var defaultCodec = newBodyCodec()

// bodyCodec compresses and decompresses bodies; safe for concurrent use.
type bodyCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newBodyCodec() *bodyCodec {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
	if err != nil {
		panic(err) // only for invalid options
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		panic(err)
	}
	return &bodyCodec{enc: enc, dec: dec}
}

// pack returns the stored form of a body.
func (c *bodyCodec) pack(body []byte) []byte {
	return c.enc.EncodeAll(body, make([]byte, 0, len(body)/2))
}

// unpack returns the body of a stored form.
func (c *bodyCodec) unpack(stored []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, zstdMagic) {
		return stored, nil
	}
	body, err := c.dec.DecodeAll(stored, nil)
	if err != nil {
		return nil, fmt.Errorf("sqldb: stored resource body is corrupt: %w", err)
	}
	return body, nil
}
