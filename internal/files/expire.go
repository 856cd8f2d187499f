package files

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Expired is a partial upload removed because nobody wrote to it for too long.
type Expired struct {
	Account string        // the sender, from its meta file; "" when it had none
	Path    string        // the path it was sent to, from its meta file
	Size    int64         // the bytes its partial file held
	Unused  time.Duration // how long it was not written
}

// ExpirePartials removes the inbox's partial uploads that nobody has written for ttl, and
// returns them. An upload open now is never removed, however old its data.
func (in *Inbox) ExpirePartials(ttl time.Duration) ([]Expired, error) {
	return in.parts.expire(ttl, time.Now())
}

// ExpirePartials removes the exchange folder's partial uploads that nobody has written for
// ttl, and returns them. An upload open now is never removed, however old its data.
func (x *Exchange) ExpirePartials(ttl time.Duration) ([]Expired, error) {
	return x.parts.expire(ttl, time.Now())
}

// partialSuffixes are the files a partial upload's key names: its data, its meta file, and a
// meta file being written.
var partialSuffixes = []string{".part", ".json", ".json.tmp"}

// expire removes the partial uploads whose files were all last changed ttl or more before
// now. Each is claimed as an open upload is while it is removed, so an upload of it cannot
// start meanwhile (that one gets ErrBusy and is tried again).
func (p *partials) expire(ttl time.Duration, now time.Time) ([]Expired, error) {
	dir, err := p.root.Open(partialDir)
	if err != nil {
		return nil, fmt.Errorf("open partial folder: %w", err)
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return nil, fmt.Errorf("list partial folder: %w", err)
	}
	seen := map[string]bool{}
	var out []Expired
	for _, name := range names {
		k, ok := keyOfName(name)
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		if e, ok := p.expireOne(partialDir+"/"+k, ttl, now); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// keyOfName returns the key part of a file name in the partial folder, when it is one of a
// partial upload's files.
func keyOfName(name string) (string, bool) {
	for _, suf := range partialSuffixes {
		if k, ok := strings.CutSuffix(name, suf); ok {
			b, err := hex.DecodeString(k)
			return k, err == nil && len(b) == 16
		}
	}
	return "", false
}

// expireOne removes the partial upload k when it is not open and its newest file is ttl old.
func (p *partials) expireOne(k string, ttl time.Duration, now time.Time) (Expired, bool) {
	p.mu.Lock()
	if _, busy := p.active[k]; busy {
		p.mu.Unlock()
		return Expired{}, false
	}
	p.active[k] = nil
	p.mu.Unlock()
	defer p.release(k)

	// Looked at only once claimed: an upload that ended a moment ago has just written it.
	var newest time.Time
	var size int64
	for _, suf := range partialSuffixes {
		fi, err := p.root.Lstat(k + suf)
		if err != nil {
			continue
		}
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
		if suf == ".part" {
			size = fi.Size()
		}
	}
	if newest.IsZero() || now.Sub(newest) < ttl {
		return Expired{}, false
	}
	m, _ := p.readMeta(k)
	p.remove(k)
	return Expired{Account: m.Account, Path: m.Path, Size: size, Unused: now.Sub(newest)}, true
}
