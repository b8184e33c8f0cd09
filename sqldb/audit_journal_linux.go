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

// mapFile allocates size bytes of disk to f (so that writing through the
// mapping can never meet a full disk, which would kill the process with
// SIGBUS) and maps them, shared: what is copied there is in the file, in
// the kernel's page cache, at once, and outlives the process.
func mapFile(f *os.File, size int) ([]byte, error) {
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(size)); err != nil {
		return nil, err
	}
	return syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
}

func unmapFile(b []byte) { syscall.Munmap(b) }
