package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/custodian-him/custodian"
	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's second recommended setting (19 MiB, two
// passes, one lane). About 30 ms a hash on a current core: slow for anyone
// guessing through a stolen database, quick enough for one sign-in.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// CheckPassword returns an EINVALID error if password may not be used by
// the user name: shorter than MinPasswordLength characters, longer than
// 1024 bytes, or the name itself.
func CheckPassword(name, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return custodian.Errorf(custodian.EINVALID, "a password must be at least %d characters long", MinPasswordLength)
	}
	if len(password) > 1024 {
		return custodian.Errorf(custodian.EINVALID, "a password may be at most 1024 bytes long")
	}
	if strings.EqualFold(strings.TrimSpace(password), name) {
		return custodian.Errorf(custodian.EINVALID, "a password must not be the user name")
	}
	return nil
}

// HashPassword returns the argon2id hash of password with a fresh random
// salt, in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded base64).
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC-format hash,
// comparing in constant time. It honours the parameters stored in the hash,
// so hashes made under older settings still verify.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	// Refuse absurd parameters rather than let a tampered row exhaust memory.
	if m < 8 || m > 1<<20 || t < 1 || t > 16 || p < 1 || p > 16 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when a user name is unknown, so a failed
// sign-in takes as long whether or not the name exists.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("custodian-dummy-password")
	if err != nil {
		panic(err)
	}
	return h
})

// randomToken returns n random bytes in unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// GeneratePassword returns a random password of 24 characters (144 bits).
func GeneratePassword() string { return randomToken(18) }
