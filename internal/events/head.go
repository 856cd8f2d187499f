package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Head is what the head file, the log's path + ".head", says about the log's last line.
type Head struct {
	Seq  uint64 `json:"seq"`  // seq of the last line; 0 for an empty log
	Hash string `json:"hash"` // hex SHA-256 of that line without its newline; "" for an empty log
}

// headPath returns where the head of the log at path is kept.
func headPath(path string) string { return path + ".head" }

// hashLine returns the hex SHA-256 of a line without its newline: what the next line's prev and
// the head hold.
func hashLine(text []byte) string {
	sum := sha256.Sum256(text)
	return hex.EncodeToString(sum[:])
}

// appendLine appends the head file's content: one JSON line.
func (h Head) appendLine(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, h.Seq, 10)
	b = append(b, `,"hash":"`...)
	b = append(b, h.Hash...)
	return append(b, "\"}\n"...)
}

// parseHead parses the content of a head file.
func parseHead(b []byte) (Head, error) {
	var h Head
	if err := json.Unmarshal(b, &h); err != nil {
		return Head{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if h.Seq == 0 && h.Hash != "" {
		return Head{}, errors.New("hash without seq")
	}
	if h.Seq != 0 && !isHash(h.Hash) {
		return Head{}, fmt.Errorf("hash %q is not a hex SHA-256", h.Hash)
	}
	return h, nil
}

// isHash reports whether s is a hex SHA-256 as hashLine writes it.
func isHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// readHead reads and parses a head file. A missing file gives an error wrapping fs.ErrNotExist.
func readHead(path string) (Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return Head{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4<<10))
	if err != nil {
		return Head{}, err
	}
	return parseHead(b)
}
