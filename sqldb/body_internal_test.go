package sqldb

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestBodyForms checks that every form a body has been stored in reads back
// as the same bytes: plain JSON, zstd without a dictionary (written before
// the dictionary) and zstd with it (written now).
func TestBodyForms(t *testing.T) {
	body := []byte(`{"resourceType":"Observation","id":"a1","meta":{"lastUpdated":"2024-01-02T03:04:05.000Z","versionId":"1"},` +
		`"category":[{"coding":[{"code":"vital-signs","display":"Vital signs","system":"http://terminology.hl7.org/CodeSystem/observation-category"}]}],` +
		`"code":{"coding":[{"code":"8867-4","display":"Heart rate","system":"http://loinc.org"}]},"status":"final",` +
		`"subject":{"reference":"Patient/p1"},"valueQuantity":{"code":"/min","system":"http://unitsofmeasure.org","unit":"/min","value":72}}`)
	plainZstd, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stored []byte
		dictID uint32 // of the frame; 0 for none
	}{
		{"plain JSON", body, 0},
		{"zstd without dictionary", plainZstd.EncodeAll(body, nil), 0},
		{"zstd with dictionary", defaultCodec.pack(body), bodyDictID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.HasPrefix(tc.stored, zstdMagic) {
				var h zstd.Header
				if err := h.Decode(tc.stored); err != nil {
					t.Fatal(err)
				}
				if h.DictionaryID != tc.dictID {
					t.Errorf("frame names dictionary %d, want %d", h.DictionaryID, tc.dictID)
				}
			}
			got, err := defaultCodec.unpack(tc.stored)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Errorf("read back %q, want %q", got, body)
			}
		})
	}
	if packed, plain := len(defaultCodec.pack(body)), len(plainZstd.EncodeAll(body, nil)); packed >= plain*3/4 {
		t.Errorf("with the dictionary the body takes %d bytes, without %d: the dictionary does not help", packed, plain)
	}
}

// TestBodyCorrupt checks that a damaged frame is an error, not wrong bytes.
func TestBodyCorrupt(t *testing.T) {
	stored := defaultCodec.pack([]byte(`{"resourceType":"Patient","id":"x","active":true}`))
	unknownDict := bytes.Clone(stored)
	// The dictionary id is in the frame header, 2 bytes for 40001.
	at := bytes.Index(unknownDict[:8], binary.LittleEndian.AppendUint16(nil, bodyDictID))
	if at < 4 {
		t.Fatal("no dictionary id in the frame header")
	}
	binary.LittleEndian.PutUint16(unknownDict[at:], 40002)
	var h zstd.Header
	if err := h.Decode(unknownDict); err != nil || h.DictionaryID != 40002 {
		t.Fatalf("the altered frame names dictionary %d (%v), want 40002", h.DictionaryID, err)
	}
	truncated := stored[:len(stored)-3]
	for name, b := range map[string][]byte{"unknown dictionary": unknownDict, "truncated": truncated} {
		if _, err := defaultCodec.unpack(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
