package hl7v2

import (
	"bytes"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
)

// AckCode is MSA-1: the answer to a message.
type AckCode string

const (
	// AA: accepted and stored.
	AA AckCode = "AA"
	// AE: the content is wrong (a missing PID-3, an unmappable value);
	// resending the same message will fail the same way.
	AE AckCode = "AE"
	// AR: the message is refused as a whole (unsupported type or version,
	// not HL7), or the receiver could not store it; see the ERR segment.
	AR AckCode = "AR"
)

// CodeFor chooses the acknowledgement for the outcome err of handling a
// message: AA for nil, AR for a refusal of the message or an internal
// failure, AE for a problem with its content.
func CodeFor(err error) AckCode {
	if err == nil {
		return AA
	}
	if e := AsError(err); e != nil {
		if e.Reject {
			return AR
		}
		return AE
	}
	switch custodian.ErrorCode(err) {
	case custodian.EINVALID, custodian.EUNPROCESSABLE, custodian.EPRECONDITION:
		return AE
	}
	return AR
}

// HeaderOf reads what an acknowledgement needs from the start of a message
// that may not parse: the MSH fields (empty when absent) and the
// delimiters (the defaults when unusable).
func HeaderOf(raw []byte) (Header, Delimiters) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	line := raw
	if i := bytes.IndexAny(raw, "\r\n"); i >= 0 {
		line = raw[:i]
	}
	// The answer is UTF-8 even when the message is not.
	line = bytes.ToValidUTF8(line, []byte("?"))
	d := DefaultDelimiters
	if len(line) >= 8 && bytes.HasPrefix(line, []byte("MSH")) {
		c := Delimiters{Field: line[3], Component: line[4], Repetition: line[5], Escape: line[6], SubComponent: line[7]}
		if c.check() == nil {
			d = c
		}
	} else {
		return Header{}, d
	}
	m := &Message{Delimiters: d}
	seg, err := m.parseSegment(string(line), true)
	if err != nil {
		return Header{}, d
	}
	m.Segments = []*Segment{seg}
	return m.Header(), d
}

// Ack builds the acknowledgement of a message with header h and delimiters
// d: MSH (sender and receiver swapped, message type ACK, control id
// controlID), MSA (code, the original control id) and, when err is not
// nil, ERR with the HL7 condition code, its location and a message. The
// segments end with CR. Versions before 2.5 get ERR-1; later ones ERR-2,
// ERR-3, ERR-4 and ERR-8.
func Ack(h Header, d Delimiters, code AckCode, err error, now time.Time, controlID string) []byte {
	version := h.Version
	if !SupportedVersion(version) {
		version = "2.5.1"
	}
	f := string(d.Field)
	enc := string([]byte{d.Component, d.Repetition, d.Escape, d.SubComponent})
	esc := d.EncodeText
	trigger := h.Trigger
	var b strings.Builder
	b.WriteString("MSH" + f + enc)
	for _, v := range []string{h.ReceivingApp, h.ReceivingFacility, h.SendingApp, h.SendingFacility,
		now.Format("20060102150405-0700"), "", "ACK" + string(d.Component) + esc(trigger) + string(d.Component) + "ACK",
		esc(controlID), orDefault(esc(h.ProcessingID), "P"), version} {
		if v != "" && !strings.Contains(v, string(d.Component)) {
			v = esc(v)
		}
		b.WriteString(f + v)
	}
	b.WriteString("\rMSA" + f + string(code) + f + esc(h.ControlID))
	if err != nil {
		b.WriteString(f + esc(clip(custodian.ErrorMessage(err), 80)))
	}
	b.WriteByte('\r')
	if err != nil {
		cond, loc, msg := "207", "", custodian.ErrorMessage(err)
		if e := AsError(err); e != nil {
			cond, loc, msg = e.Condition, e.Location, e.Msg
		}
		seg, field := locationParts(loc)
		c := string(d.Component)
		condText := conditionText[cond]
		if version < "2.5" {
			b.WriteString("ERR" + f + seg + c + "1" + c + field + c + cond + string(d.SubComponent) + esc(condText) + string(d.SubComponent) + "HL70357")
		} else {
			erl := ""
			if seg != "" {
				erl = seg + c + "1" + c + field
			}
			b.WriteString("ERR" + f + f + erl + f + cond + c + esc(condText) + c + "HL70357" + f + "E" + f + f + f + f + esc(msg))
		}
		b.WriteByte('\r')
	}
	return []byte(b.String())
}

// conditionText names the HL7 table 0357 codes Custodian sends.
var conditionText = map[string]string{
	"0": "Message accepted", "100": "Segment sequence error", "101": "Required field missing",
	"102": "Data type error", "103": "Table value not found", "200": "Unsupported message type",
	"201": "Unsupported event code", "202": "Unsupported processing id", "203": "Unsupported version id",
	"204": "Unknown key identifier", "205": "Duplicate key identifier", "206": "Application record locked",
	"207": "Application internal error",
}

// locationParts splits "PID-3" into "PID" and "3"; anything else is a
// segment name or nothing.
func locationParts(loc string) (seg, field string) {
	seg, field, _ = strings.Cut(loc, "-")
	if len(seg) != 3 || !segmentName(seg) {
		return "", ""
	}
	if i := strings.IndexByte(field, '.'); i >= 0 {
		field = field[:i]
	}
	return seg, field
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(c byte) bool { return c&0xC0 != 0x80 }
