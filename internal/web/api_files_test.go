package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/buktu/buktu/internal/files"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// form is a multipart body of a note and files, by name.
func form(t *testing.T, note string, fileNames []string, contents [][]byte) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if note != "" {
		mw.WriteField("note", note)
	}
	for i, name := range fileNames {
		h := textproto.MIMEHeader{}
		// CreateFormFile would escape nothing either; written by hand to keep the folders.
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(contents[i])
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func TestSend(t *testing.T) {
	h := startHost(t, nil)
	var transfers []files.Transfer
	h.srv.OnTransfer = func(account, remote string, tr files.Transfer) {
		h.mu.Lock()
		defer h.mu.Unlock()
		transfers = append(transfers, tr)
	}
	c := h.client(t)
	c.login("ann")
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640 KB: several copy buffers
	body, ctype := form(t, "for you", []string{"a.txt", "dir/b.bin", "a.txt"}, [][]byte{[]byte("hello"), big, []byte("again")})
	resp, got := c.call("POST", "/api/v1/send", body, "Content-Type", ctype)
	if resp.StatusCode != 200 {
		t.Fatalf("POST /api/v1/send = %s %s; want 200", resp.Status, got)
	}
	var reply sendReply
	if err := json.Unmarshal(got, &reply); err != nil {
		t.Fatal(err)
	}
	want := []sentFile{{"a.txt", 5, sum([]byte("hello"))}, {"dir/b.bin", int64(len(big)), sum(big)},
		{"a (2).txt", 5, sum([]byte("again"))}}
	if len(reply.Files) != len(want) {
		t.Fatalf("send reply = %+v; want %+v", reply, want)
	}
	for i, w := range want {
		if reply.Files[i] != w {
			t.Errorf("send reply file %d = %+v; want %+v", i, reply.Files[i], w)
		}
		b, err := os.ReadFile(filepath.Join(h.inbox, "ann", w.Name))
		if err != nil || sum(b) != w.SHA256 {
			t.Errorf("inbox file %s: %v, sha256 %s; want %s", w.Name, err, sum(b), w.SHA256)
		}
	}
	note, err := os.ReadFile(filepath.Join(h.inbox, "ann", reply.Note))
	if err != nil || !strings.Contains(string(note), "for you") || !strings.Contains(string(note), "dir/b.bin") {
		t.Errorf("note %q = %q, %v; want the text and the files", reply.Note, note, err)
	}
	h.mu.Lock()
	if len(transfers) != 3 || !transfers[1].Complete || transfers[1].Size != int64(len(big)) {
		t.Errorf("OnTransfer got %+v; want three complete uploads", transfers)
	}
	h.mu.Unlock()

	tests := []struct {
		name  string
		note  string
		files []string
		data  [][]byte
		want  int
	}{
		{"nothing", "", nil, nil, 400},
		{"only a note", "just a note", nil, nil, 200},
		{"too large", "", []string{"huge"}, [][]byte{make([]byte, 1<<20+1)}, 413},
		{"no file name", "", []string{""}, [][]byte{[]byte("x")}, 400},
		{"reserved name", "", []string{".buktu-partial/x"}, [][]byte{[]byte("x")}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ctype := form(t, tt.note, tt.files, tt.data)
			if got := c.status("POST", "/api/v1/send", body, "Content-Type", ctype); got != tt.want {
				t.Errorf("POST /api/v1/send = %d; want %d", got, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(h.inbox, "ann", "huge")); err == nil {
		t.Error("a file over the size limit was placed in the inbox")
	}
	if got := c.status("POST", "/api/v1/send", "x", "Content-Type", "text/plain"); got != 400 {
		t.Errorf("POST /api/v1/send as text = %d; want 400", got)
	}
}

// listing returns the names in an exchange folder, as the API lists them.
func (c *client) listing(dir string) []string {
	c.t.Helper()
	var got struct {
		Path    string
		Entries []entry
	}
	c.decode("GET", "/api/v1/exchange/list?path="+dir, nil, &got)
	var names []string
	for _, e := range got.Entries {
		n := e.Name
		if e.Dir {
			n += "/"
		}
		names = append(names, n)
	}
	return names
}

func TestExchange(t *testing.T) {
	h := startHost(t, nil)
	c := h.client(t)
	c.login("ann")
	steps := []struct {
		name         string
		method, path string
		body         any
		want         int
	}{
		{"mkdir", "POST", "/api/v1/exchange/mkdir", pathRequest{"a"}, 204},
		{"mkdir again", "POST", "/api/v1/exchange/mkdir", pathRequest{"a"}, 409},
		{"put", "PUT", "/api/v1/exchange/file?path=a/b.txt", "contents", 201},
		{"put into nothing", "PUT", "/api/v1/exchange/file?path=no/b.txt", "x", 404},
		{"rename", "POST", "/api/v1/exchange/rename", renameRequest{"a/b.txt", "a/c.txt"}, 204},
		{"rename missing", "POST", "/api/v1/exchange/rename", renameRequest{"a/b.txt", "a/d.txt"}, 404},
		{"remove full folder", "DELETE", "/api/v1/exchange/file?path=a", nil, 409},
		{"get missing", "GET", "/api/v1/exchange/file?path=a/b.txt", nil, 404},
		{"get folder", "GET", "/api/v1/exchange/file?path=a", nil, 403},
	}
	for _, s := range steps {
		if got := c.status(s.method, s.path, s.body); got != s.want {
			t.Errorf("%s: %s %s = %d; want %d", s.name, s.method, s.path, got, s.want)
		}
	}
	if got := strings.Join(c.listing("a"), ","); got != "c.txt" {
		t.Errorf("list a = %s; want c.txt", got)
	}
	if got := strings.Join(c.listing(""), ","); got != "a/" {
		t.Errorf("list of the top = %s; want a/ (no partial folder)", got)
	}
	resp, body := c.call("GET", "/api/v1/exchange/file?path=a/c.txt", nil)
	if string(body) != "contents" || resp.Header.Get("Content-Disposition") != `attachment; filename=c.txt` ||
		resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("GET a/c.txt = %q %v; want the contents as an attachment", body, resp.Header)
	}
	resp, body = c.call("PUT", "/api/v1/exchange/file?path=a/c.txt", "new")
	var put struct {
		Size   int64
		SHA256 string
	}
	json.Unmarshal(body, &put)
	if resp.StatusCode != 201 || put.Size != 3 || put.SHA256 != sum([]byte("new")) {
		t.Errorf("PUT over a/c.txt = %d %s; want 201 with size 3 and its sha256", resp.StatusCode, body)
	}
	if got := c.status("DELETE", "/api/v1/exchange/file?path=a/c.txt", nil); got != 204 {
		t.Errorf("DELETE a/c.txt = %d; want 204", got)
	}
	if got := c.listing("a"); len(got) != 0 {
		t.Errorf("list a after delete = %v; want nothing", got)
	}

	// Replacing needs delete: writer may add but not replace.
	w := h.client(t)
	w.login("writer")
	if got := w.status("PUT", "/api/v1/exchange/file?path=w.txt", "1"); got != 201 {
		t.Errorf("writer's PUT w.txt = %d; want 201", got)
	}
	if got := w.status("PUT", "/api/v1/exchange/file?path=w.txt", "2"); got != 403 {
		t.Errorf("writer's PUT over w.txt = %d; want 403", got)
	}
}

func TestExchangeJail(t *testing.T) {
	h := startHost(t, nil)
	outside := filepath.Dir(h.exchange)
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(h.exchange, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(h.exchange, "up")); err != nil {
		t.Fatal(err)
	}
	c := h.client(t)
	c.login("ann")
	tests := []struct {
		name         string
		method, path string
		body         any
		want         int
	}{
		{"dot-dot", "GET", "/api/v1/exchange/file?path=../secret.txt", nil, 404},
		{"absolute", "GET", "/api/v1/exchange/file?path=" + filepath.Join(outside, "secret.txt"), nil, 404},
		{"symlink out", "GET", "/api/v1/exchange/file?path=link", nil, 403},
		{"through a symlinked folder", "GET", "/api/v1/exchange/file?path=up/secret.txt", nil, 403},
		{"list through a symlink", "GET", "/api/v1/exchange/list?path=up", nil, 403},
		{"put through a symlink", "PUT", "/api/v1/exchange/file?path=up/evil.txt", "x", 404},
		{"put dot-dot", "PUT", "/api/v1/exchange/file?path=../evil.txt", "x", 201},
		{"mkdir dot-dot", "POST", "/api/v1/exchange/mkdir", pathRequest{"../../evil"}, 204},
		{"rename out", "POST", "/api/v1/exchange/rename", renameRequest{"evil.txt", "up/evil.txt"}, 403},
		{"delete through a symlink", "DELETE", "/api/v1/exchange/file?path=up/secret.txt", nil, 403},
		{"partial folder", "GET", "/api/v1/exchange/list?path=.buktu-partial", nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := c.call(tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.want || strings.Contains(string(body), "secret") || strings.Contains(string(body), outside) {
				t.Errorf("%s %s = %d %q; want %d, and nothing from outside", tt.method, tt.path, resp.StatusCode, body, tt.want)
			}
		})
	}
	// What climbed with ".." stayed inside the folder.
	for _, name := range []string{"evil.txt", "evil"} {
		if _, err := os.Lstat(filepath.Join(outside, name)); err == nil {
			t.Errorf("%s was made outside the exchange folder", name)
		}
		if _, err := os.Lstat(filepath.Join(h.exchange, name)); err != nil {
			t.Errorf("%s is not inside the exchange folder: %v", name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret.txt")); string(b) != "secret" {
		t.Errorf("the file outside was changed to %q", b)
	}
	if got := c.status("GET", "/api/v1/exchange/file?path=x", nil, "Range", "bytes=0-0"); got != http.StatusNotFound {
		t.Errorf("GET a missing file with a range = %d; want 404", got)
	}
}

// BenchmarkExchange measures a file's way through HTTPS and the exchange policy on loopback:
// an upload (streamed, hashed, synced, renamed into place) and a download.
func BenchmarkExchange(b *testing.B) {
	const size = 16 << 20
	h := startHost(b, func(s *Server) {
		x, err := files.OpenExchange(b.TempDir(), files.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { x.Close() })
		s.Exchange = x
	})
	c := h.client(b)
	c.login("ann")
	data := bytes.Repeat([]byte("buktu exchange!\n"), size/16)
	b.Run("put", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if got := c.status("PUT", "/api/v1/exchange/file?path=big", bytes.NewReader(data)); got != 201 {
				b.Fatalf("PUT = %d; want 201", got)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if resp, got := c.call("GET", "/api/v1/exchange/file?path=big", nil); resp.StatusCode != 200 || len(got) != size {
				b.Fatalf("GET = %d, %d bytes; want 200 and the file", resp.StatusCode, len(got))
			}
		}
	})
}

// countingReader counts what has been read of it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestUploadRefusedAfterItsBody uploads files far past the host's size limit: the refusal
// comes once the whole body has been read, not before, when Go's server would close the
// connection under a client (a browser) still sending, which then sees only a reset.
func TestUploadRefusedAfterItsBody(t *testing.T) {
	h := startHost(t, nil)
	c := h.client(t)
	c.login("ann")
	big := bytes.Repeat([]byte("x"), 16<<20)
	body, ctype := form(t, "", []string{"big.bin"}, [][]byte{big})
	for _, tt := range []struct {
		name, method, path string
		body               io.Reader
		header             []string
	}{
		{"send", "POST", "/api/v1/send", body, []string{"Content-Type", ctype}},
		{"exchange", "PUT", "/api/v1/exchange/file?path=big.bin", bytes.NewReader(big), nil},
		{"exchange refused", "PUT", "/api/v1/exchange/file?path=.buktu-partial/x", bytes.NewReader(big), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.body.(interface{ Len() int }).Len()
			cr := &countingReader{r: tt.body}
			resp, got := c.call(tt.method, tt.path, cr, tt.header...)
			if resp.StatusCode != http.StatusRequestEntityTooLarge && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s of %d bytes = %s %s; want 413 or 403", tt.method, tt.path, size, resp.Status, got)
			}
			if n := cr.n.Load(); n != int64(size) {
				t.Errorf("%s %s: the host answered after reading %d bytes of %d", tt.method, tt.path, n, size)
			}
			if resp.Close {
				t.Errorf("%s %s: the host closes the connection after its answer", tt.method, tt.path)
			}
		})
	}
}
