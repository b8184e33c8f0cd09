package deid

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/custodian-him/custodian"
)

// KeySize is the size in bytes of a generated key.
const KeySize = 32

// Key makes the keyed pseudonyms and date shifts of an export: the same
// key gives the same pseudonym for the same resource and the same shift
// for the same patient, so exports made with one key link to each other.
// Whoever holds the key can confirm a guess of who a pseudonym is, so it
// stays with the covered entity and never goes into the output.
type Key struct {
	secret []byte
	macs   *sync.Pool // of keyed HMAC-SHA256 states (making one costs as much as using it)
}

// NewKey returns a Key of secret, which must have at least 16 bytes.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < 16 {
		return nil, custodian.Errorf(custodian.EINVALID, "a de-identification key needs at least 16 bytes")
	}
	return newKey(bytes.Clone(secret)), nil
}

func newKey(secret []byte) *Key {
	return &Key{secret: secret, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }}}
}

// GenerateKey returns a new random key.
func GenerateKey() (*Key, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return nil, custodian.Wrap(custodian.EINTERNAL, err, "a key cannot be generated")
	}
	return newKey(b), nil
}

// ReadKeyFile reads a key written by WriteKeyFile (hex, one line).
func ReadKeyFile(name string) (*Key, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "the key file cannot be read")
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, custodian.Errorf(custodian.EINVALID, "the key file must hold the key in hexadecimal on one line")
	}
	return NewKey(secret)
}

// WriteKeyFile writes k to name (hex, readable by its owner only); it
// refuses to overwrite a file.
func (k *Key) WriteKeyFile(name string) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return custodian.Wrap(custodian.EINVALID, err, "the key file cannot be written")
	}
	_, err = fmt.Fprintln(f, hex.EncodeToString(k.secret))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (k *Key) mac(parts ...string) []byte {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	for _, p := range parts {
		io.WriteString(m, p)
		m.Write([]byte{0})
	}
	sum := m.Sum(nil)
	k.macs.Put(m)
	return sum
}

// Pseudonym is the pseudonymous id of resource typ/id: 32 hex digits, a
// valid FHIR id.
func (k *Key) Pseudonym(typ, id string) string {
	return hex.EncodeToString(k.mac("id", typ, id)[:16])
}

// identifier is the pseudonym of an identifier value in system.
func (k *Key) identifier(system, value string) string {
	return hex.EncodeToString(k.mac("identifier", system, value)[:16])
}

// MaxShift bounds the date shift, in days either way.
const MaxShift = 365

// Shift is the date shift of patient's record in days: in [-MaxShift,
// MaxShift], never 0, the same for the same patient and key. Resources in
// no patient's compartment use patient "".
func (k *Key) Shift(patient string) int {
	v := binary.BigEndian.Uint64(k.mac("shift", patient)[:8])
	d := int(v%(2*MaxShift)) - MaxShift // [-MaxShift, MaxShift)
	if d >= 0 {
		d++ // skip 0: [1, MaxShift]
	}
	return d
}

//go:embed data/restricted-zip3.txt
var restrictedZIP3 []byte

// DefaultRestrictedZIP3 is the HHS list of three-digit ZIP areas of 20,000
// or fewer people (2000 Census; data/PROVENANCE.md).
func DefaultRestrictedZIP3() map[string]bool {
	m, err := ParseZIP3List(restrictedZIP3)
	if err != nil {
		panic(err) // the embedded list is checked by the tests
	}
	return m
}

// ParseZIP3List reads a list of three-digit ZIP prefixes, one a line,
// with # comments and blank lines.
func ParseZIP3List(b []byte) (map[string]bool, error) {
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if len(line) != 3 || strings.Trim(line, "0123456789") != "" {
			return nil, custodian.Errorf(custodian.EINVALID, "line %d of the ZIP3 list is not three digits: %q", n, line)
		}
		m[line] = true
	}
	return m, sc.Err()
}
