package mllp

import (
	"bufio"
	"errors"
	"io"
)

// MLLP framing: a message is sent as 0x0B, the message, 0x1C 0x0D.
const (
	startBlock = 0x0B
	endBlock   = 0x1C
	endData    = 0x0D
)

// errTruncated is a frame cut short by a new start block.
var errTruncated = errors.New("the frame was cut short: a new start block came before its end")

// errTooLarge is a frame longer than the limit.
var errTooLarge = errors.New("the frame is longer than the limit")

// frameReader reads MLLP frames.
type frameReader struct {
	r   *bufio.Reader
	max int
}

// next returns the next frame's content. Bytes outside frames (line noise,
// keep-alive newlines) are skipped. A frame cut short by a new start block
// is returned with errTruncated (the new frame is read next); a frame over
// the limit is read to its end and returned, cut at the limit, with
// errTooLarge. At the end of the stream the error is io.EOF, or
// io.ErrUnexpectedEOF inside a frame (with what was read).
func (f *frameReader) next() ([]byte, error) {
	for {
		b, err := f.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == startBlock {
			break
		}
	}
	var buf []byte
	over := false
	for {
		b, err := f.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
		switch b {
		case startBlock:
			if err := f.r.UnreadByte(); err != nil {
				return buf, err
			}
			return buf, errTruncated
		case endBlock:
			nb, err := f.r.ReadByte()
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return buf, err
			}
			if nb != endData {
				// Not the end after all: an 0x1C inside the data.
				if !over {
					buf = append(buf, b)
				}
				if err := f.r.UnreadByte(); err != nil {
					return buf, err
				}
				continue
			}
			if over {
				return buf, errTooLarge
			}
			return buf, nil
		}
		if len(buf) >= f.max {
			over = true
			continue
		}
		buf = append(buf, b)
	}
}

// frame wraps a message for sending.
func frame(msg []byte) []byte {
	out := make([]byte, 0, len(msg)+3)
	out = append(out, startBlock)
	out = append(out, msg...)
	return append(out, endBlock, endData)
}
