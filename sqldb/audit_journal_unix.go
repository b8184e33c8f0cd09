//go:build unix && !linux

package sqldb

import (
	"os"
	"syscall"
)

const canLockFiles = true

// lockFile takes an exclusive lock on f without waiting; it fails if
// another process holds one. The lock ends with the process.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// mapFile maps nothing here: journal records are written with pwrite.
func mapFile(*os.File, int) ([]byte, error) { return nil, nil }

func unmapFile([]byte) {}
