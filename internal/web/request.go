package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/files"
)

// maxJSON bounds a JSON request body.
const maxJSON = 64 << 10

// apiError is an answer for the person on the other side: a status and a text that never
// carries a host path or an internal error.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(msg string) error { return &apiError{http.StatusBadRequest, msg} }

type errorReply struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"the host could not answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorReply{msg})
}

// fail answers with what err means for the person: refusals have their words, the file
// policies' errors files.Explain's; anything without words is logged here and answered
// without detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if ae, ok := errors.AsType[*apiError](err); ok {
		writeError(w, ae.status, ae.msg)
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		writeError(w, http.StatusServiceUnavailable, "the session ended")
		return
	}
	code, msg := files.Explain(err)
	if code == files.CodeFailure {
		s.log().Warn("console request failed", "path", r.URL.Path, "remote_addr", r.RemoteAddr, "err", err)
	}
	writeError(w, httpStatus[code], msg)
}

// httpStatus is the HTTP status of each kind of file error.
var httpStatus = map[files.Code]int{
	files.CodeFailure:  http.StatusInternalServerError,
	files.CodeDenied:   http.StatusForbidden,
	files.CodeNotFound: http.StatusNotFound,
	files.CodeExists:   http.StatusConflict,
	files.CodeNotEmpty: http.StatusConflict,
	files.CodeTooLarge: http.StatusRequestEntityTooLarge,
	files.CodeBusy:     http.StatusConflict,
	files.CodeNoSpace:  http.StatusInsufficientStorage,
}

// readJSON reads a JSON body of at most maxJSON bytes with parse, or answers the error.
func readJSON[T any](w http.ResponseWriter, r *http.Request, parse func([]byte) (T, error)) (T, bool) {
	var zero T
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSON))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeError(w, http.StatusRequestEntityTooLarge, "request larger than 64 KiB")
		return zero, false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad request: the body did not arrive")
		return zero, false
	}
	v, err := parse(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return zero, false
	}
	return v, true
}

// decodeJSON decodes exactly one JSON value from b.
func decodeJSON[T any](b []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return v, badRequest("bad request: not the JSON object expected")
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, badRequest("bad request: more than one JSON value")
	}
	return v, nil
}

// Limits of request fields, far above what a person types.
const (
	maxName     = 256
	maxPassword = 4096
	maxPath     = 4096
	maxChat     = 4 << 10
)

type loginRequest struct {
	Account  string `json:"account"`
	Password string `json:"password"`
}

func parseLogin(b []byte) (loginRequest, error) {
	v, err := decodeJSON[loginRequest](b)
	switch {
	case err != nil:
		return v, err
	case v.Account == "" || len(v.Account) > maxName || len(v.Password) > maxPassword:
		return v, badRequest("bad request: account and password needed")
	}
	return v, nil
}

type chatRequest struct {
	Text string `json:"text"`
}

func parseChat(b []byte) (chatRequest, error) {
	v, err := decodeJSON[chatRequest](b)
	switch {
	case err != nil:
		return v, err
	case len(v.Text) > maxChat:
		return v, badRequest("message longer than 4 KiB")
	}
	return v, nil
}

type approvalRequest struct {
	Approve *bool `json:"approve"`
}

func parseApproval(b []byte) (approvalRequest, error) {
	v, err := decodeJSON[approvalRequest](b)
	switch {
	case err != nil:
		return v, err
	case v.Approve == nil:
		return v, badRequest(`bad request: "approve" needed`)
	}
	return v, nil
}

type inviteRequest struct {
	Address  string `json:"address"`
	Control  bool   `json:"control"`
	Password string `json:"password"`
}

func parseInvite(b []byte) (inviteRequest, error) {
	v, err := decodeJSON[inviteRequest](b)
	if err != nil {
		return v, err
	}
	if len(v.Password) > maxPassword {
		return v, badRequest("bad request: password too long")
	}
	host, port, err := net.SplitHostPort(v.Address)
	if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || n == 0 || host == "" || len(v.Address) > maxName {
		return v, badRequest("the address must be host:port")
	}
	return v, nil
}

type pathRequest struct {
	Path string `json:"path"`
}

func parsePath(b []byte) (pathRequest, error) {
	v, err := decodeJSON[pathRequest](b)
	switch {
	case err != nil:
		return v, err
	case len(v.Path) > maxPath:
		return v, badRequest("path too long")
	}
	return v, nil
}

type renameRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func parseRename(b []byte) (renameRequest, error) {
	v, err := decodeJSON[renameRequest](b)
	switch {
	case err != nil:
		return v, err
	case len(v.From) > maxPath || len(v.To) > maxPath:
		return v, badRequest("path too long")
	}
	return v, nil
}

// parseCount parses a query parameter holding a count: empty means def; the result is at
// most max.
func parseCount(s string, def, max uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, badRequest("bad request: not a number")
	}
	return min(n, max), nil
}

// remoteAddr returns the peer's address of r.
func remoteAddr(r *http.Request) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(r.RemoteAddr)
	return ap
}

func errorsAsThrottled(err error) (*auth.ThrottledError, bool) {
	return errors.AsType[*auth.ThrottledError](err)
}

// retryAfter returns d in whole seconds for Retry-After, at least 1.
func retryAfter(d time.Duration) int {
	return int(max(1, math.Ceil(d.Seconds())))
}
