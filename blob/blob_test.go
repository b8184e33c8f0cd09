package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/blob"
)

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestPutOpen(t *testing.T) {
	root := t.TempDir()
	d, err := blob.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	content := bytes.Repeat([]byte("scanned page "), 100000)
	info, err := d.Put(ctx, bytes.NewReader(content), 10<<20)
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != sum(content) || info.Size != int64(len(content)) {
		t.Fatalf("info %+v", info)
	}
	// The same content again is stored once.
	if again, err := d.Put(ctx, bytes.NewReader(content), 10<<20); err != nil || again != info {
		t.Fatalf("again: %+v %v", again, err)
	}
	var files []string
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 || !strings.HasSuffix(files[0], filepath.Join("sha256", info.SHA256[:2], info.SHA256[2:4], info.SHA256)) {
		t.Errorf("files on disk: %v", files)
	}
	r, err := d.Open(info.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if err := d.Verify(info.SHA256); err != nil {
		t.Fatal(err)
	}

	t.Run("limit", func(t *testing.T) {
		_, err := d.Put(ctx, bytes.NewReader(content), 1000)
		if custodian.ErrorCode(err) != custodian.ETOOLARGE {
			t.Fatalf("over the limit: %v", err)
		}
		left, _ := filepath.Glob(filepath.Join(root, "tmp", "*"))
		if len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})

	t.Run("names", func(t *testing.T) {
		for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("a", 63), strings.Repeat("a", 62) + "/x", "..%2f" + strings.Repeat("a", 59)} {
			if _, err := d.Open(bad); custodian.ErrorCode(err) != custodian.EINVALID {
				t.Errorf("Open(%q): %v", bad, err)
			}
		}
		if _, err := d.Open(strings.Repeat("0", 64)); custodian.ErrorCode(err) != custodian.ENOTFOUND {
			t.Errorf("absent blob: %v", err)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		small := []byte("a short attachment that will be damaged")
		info, err := d.Put(ctx, bytes.NewReader(small), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, "sha256", info.SHA256[:2], info.SHA256[2:4], info.SHA256)
		os.Chmod(path, 0o600)
		if err := os.WriteFile(path, []byte("a short attachment that will be DAMAGED"), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := d.Open(info.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := io.ReadAll(r); err != blob.ErrCorrupt {
			t.Errorf("reading damaged content: %v", err)
		}
		if err := d.Verify(info.SHA256); err != blob.ErrCorrupt {
			t.Errorf("verifying damaged content: %v", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := d.Put(cctx, bytes.NewReader(content), 10<<20); err == nil {
			t.Error("a cancelled upload was stored")
		}
	})
}
