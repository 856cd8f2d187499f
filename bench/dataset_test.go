package bench

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// dataset is one kind of data a benchmark moves.
type dataset struct {
	Title string // as the table shows it
	Name  string // of the file, or of the folder holding the files
	Files int    // 1 means Name is the file itself
	Size  int64  // of each file
	Runs  int    // the best of how many runs counts
}

// Bytes is the data set's total size.
func (d dataset) Bytes() int64 { return int64(d.Files) * d.Size }

// checkAllUpTo is the largest data set whose every file is checked by content after a run;
// bigger ones have their first, middle and last file checked, and every file's size.
const checkAllUpTo = 64 << 20

// manifest is what a data set holds: every file's size, and the SHA-256 of the files that
// are checked by content.
type manifest struct {
	path  string                       // the file or folder
	sizes map[string]int64             // by slash path under path; "." for a lone file
	sums  map[string][sha256.Size]byte // by the same paths
}

// generate writes d under dir with random content from seed.
func generate(dir string, d dataset, seed byte) (*manifest, error) {
	m := &manifest{path: filepath.Join(dir, d.Name), sizes: map[string]int64{}, sums: map[string][sha256.Size]byte{}}
	rng := rand.NewChaCha8([32]byte{seed})
	names := []string{"."}
	if d.Files > 1 {
		if err := os.MkdirAll(m.path, 0o755); err != nil {
			return nil, fmt.Errorf("make data set folder: %w", err)
		}
		names = names[:0]
		for i := range d.Files {
			names = append(names, fmt.Sprintf("f%05d.bin", i))
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make data set folder: %w", err)
	}
	checked := func(i int) bool {
		return d.Bytes() <= checkAllUpTo || i == 0 || i == len(names)/2 || i == len(names)-1
	}
	buf := make([]byte, 1<<20)
	for i, name := range names {
		f, err := os.Create(filepath.Join(m.path, name))
		if err != nil {
			return nil, fmt.Errorf("write data set: %w", err)
		}
		h := sha256.New()
		var w io.Writer = f
		if checked(i) {
			w = io.MultiWriter(f, h)
		}
		_, err = io.CopyBuffer(w, io.LimitReader(rng, d.Size), buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("write data set: %w", err)
		}
		m.sizes[name] = d.Size
		if checked(i) {
			m.sums[name] = [sha256.Size]byte(h.Sum(nil))
		}
	}
	return m, nil
}

// verify checks that got holds exactly the manifest's files, with their sizes, and the
// checked ones with their content: a fast run that delivered the wrong thing must not count.
func (m *manifest) verify(got string) error {
	seen := 0
	err := filepath.WalkDir(got, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(got, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		want, ok := m.sizes[rel]
		if !ok || !e.Type().IsRegular() {
			return fmt.Errorf("%s: not in the data set", p)
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if fi.Size() != want {
			return fmt.Errorf("%s: %d bytes, want %d", p, fi.Size(), want)
		}
		seen++
		return nil
	})
	if err != nil {
		return err
	}
	if seen != len(m.sizes) {
		return fmt.Errorf("%s: %d files, want %d", got, seen, len(m.sizes))
	}
	for rel, want := range m.sums {
		p := filepath.Join(got, filepath.FromSlash(rel))
		sum, err := fileSum(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(sum[:], want[:]) {
			return fmt.Errorf("%s: SHA-256 %x, want %x", p, sum[:8], want[:8])
		}
	}
	return nil
}

func fileSum(p string) ([sha256.Size]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("read %s: %w", p, err)
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}

// linkTree makes dst a copy of src made of hard links, so the host's exchange folder serves
// the very bytes (and page cache) that sshd serves from src.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.Link(p, target)
	})
}
