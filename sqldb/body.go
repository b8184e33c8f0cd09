package sqldb

import (
	"bytes"
	_ "embed"
	"fmt"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// Resource bodies are stored compressed with zstd (fastest level) and a
// dictionary trained on FHIR JSON as Custodian writes it (bodydict/, see
// its PROVENANCE.md). A typical body is a kilobyte or two, too little for
// zstd to learn the repeated keys, system URLs and codes from the body
// alone; the dictionary supplies them, and a body takes about a third of
// the space it takes without (bodydict/PROVENANCE.md has the figures).
//
// Every stored form stays readable, without rewriting: a body that starts
// with '{' is plain JSON (written before compression, or by hand); one that
// starts with the zstd magic number is a zstd frame, whose header names the
// dictionary it needs (none for the frames written before the dictionary,
// bodyDictID for the frames written with it). A new dictionary gets a new
// id and is added to the decoder's; old ones are never removed.

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// bodyDictID is the id of the dictionary new bodies are written with, as
// stored in the dictionary and in the frame header of every body packed
// with it. Ids below 32768 are reserved by zstd; 40001 takes two bytes.
const bodyDictID = 40001

//go:embed bodydict/fhir-40001.dict.zst
var bodyDictZst []byte

// defaultCodec is shared by every database: zstd encoders and decoders are
// safe for concurrent use and costly to make.
var defaultCodec = newBodyCodec()

// bodyCodec compresses and decompresses bodies; safe for concurrent use.
type bodyCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newBodyCodec() *bodyCodec {
	dict, err := unpackDict(bodyDictZst)
	if err != nil {
		panic(err) // the embedded dictionary is part of the build
	}
	// One encoder per core (up to 8, each holds about half a megabyte of
	// tables): with one, every request compressing a body waited for it,
	// and a Bundle's handlers queued behind each other there.
	// Literals stay Huffman-coded: without (zstd.WithNoEntropyCompression)
	// compression took 16.3 → 12.0 µs of CPU a body, but bodies grew 6%
	// (generated data) to 14% (the Synthea-based bench data: 319 → 364
	// bytes), 2% of the store, whose size target has little margin.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(min(runtime.GOMAXPROCS(0), 8)),
		zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false), zstd.WithEncoderDict(dict))
	if err != nil {
		panic(err) // only for invalid options or a bad dictionary
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderDicts(dict))
	if err != nil {
		panic(err)
	}
	return &bodyCodec{enc: enc, dec: dec}
}

// unpackDict decompresses the embedded dictionary and checks its id.
func unpackDict(zst []byte) ([]byte, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	dict, err := dec.DecodeAll(zst, nil)
	if err != nil {
		return nil, fmt.Errorf("sqldb: the body dictionary is corrupt: %w", err)
	}
	d, err := zstd.InspectDictionary(dict)
	if err != nil {
		return nil, fmt.Errorf("sqldb: the body dictionary is corrupt: %w", err)
	}
	if d.ID() != bodyDictID {
		return nil, fmt.Errorf("sqldb: the body dictionary has id %d, not %d", d.ID(), bodyDictID)
	}
	return dict, nil
}

// pack returns the stored form of a body.
func (c *bodyCodec) pack(body []byte) []byte {
	return c.enc.EncodeAll(body, make([]byte, 0, len(body)/4+16))
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
