package web

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/events"
)

// AccountStore is what the console needs to manage accounts; the host passes its
// *auth.Store. Each change is checked by the store again, so the console's own checks are
// only there to answer a person clearly.
type AccountStore interface {
	List() ([]auth.Account, error)
	Add(name, password string, privs map[auth.Privilege]auth.Mode) error
	Remove(name string) error
	SetPassword(name, password string) error
	Grant(name string, p auth.Privilege, m auth.Mode) error
	Revoke(name string, p auth.Privilege) error
}

// kindAccount is the kind of the activity-log record of an account changed in the console.
const kindAccount = "account"

// Refusals of account changes that would lock the owner out or make the guest an admin.
var (
	errBadName      = badRequest("an account name is 1 to 32 characters from a-z, 0-9, '.', '_', '-', starting with a letter or digit")
	errKeepAdmin    = badRequest("the admin account cannot be removed or lose the admin privilege")
	errGuestAdmin   = badRequest("the guest account cannot hold the admin privilege")
	errGuestAdd     = badRequest("the guest account is turned on with buktu user guest enable, not added")
	errGuestPass    = badRequest("the guest account has no password")
	errNoAccount    = &apiError{http.StatusNotFound, "no such account"}
	errAccountTaken = &apiError{http.StatusConflict, "an account of that name exists"}
)

// accountView is an account as the console shows it: never its password hash or keys.
type accountView struct {
	Name string `json:"name"`
	// Privileges holds every privilege with the mode stored for it, so that a form can show
	// and change each; an admin holds all of them whatever these say.
	Privileges map[string]string `json:"privileges"`
	Keys       int               `json:"keys"`
	Disabled   bool              `json:"disabled"`
	Guest      bool              `json:"guest"`
}

func viewOf(a auth.Account) accountView {
	privs := make(map[string]string, len(auth.Privileges()))
	for _, p := range auth.Privileges() {
		privs[string(p)] = a.Privileges[p].String()
	}
	return accountView{Name: a.Name, Privileges: privs, Keys: len(a.Keys), Disabled: a.Disabled, Guest: a.IsGuest()}
}

// manages answers the refusal and returns false unless c may manage accounts through this
// port: the admin privilege, on the Control port, with accounts behind it. The changes need
// the admin password too, which the handlers check once the request makes sense.
func (s *Server) manages(w http.ResponseWriter, r *http.Request, c caller) bool {
	if err := s.need(r.Context(), c, auth.PrivAdmin); err != nil {
		s.fail(w, r, err)
		return false
	}
	if s.service() != ServiceControl {
		writeError(w, http.StatusForbidden, "accounts are managed only on the Control port")
		return false
	}
	if s.Accounts == nil {
		s.fail(w, r, errUnavailable)
		return false
	}
	return true
}

// accountChanged records a change made by c to the account name.
func (s *Server) accountChanged(c caller, name string, p auth.Privilege, what string) {
	s.record(events.Record{Kind: kindAccount, Outcome: events.OutcomeOK, Account: name, Service: serviceConsole,
		Remote: c.remote, Session: c.id, Privilege: string(p), Reason: what + " by " + c.account + " in the console"})
}

// accountFail answers the store's refusals in words; anything else goes to fail.
func (s *Server) accountFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, auth.ErrNoAccount):
		err = errNoAccount
	case errors.Is(err, auth.ErrExists):
		err = errAccountTaken
	}
	s.fail(w, r, err)
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, c caller) {
	if !s.manages(w, r, c) {
		return
	}
	list, err := s.Accounts.List()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	views := make([]accountView, 0, len(list))
	for _, a := range list {
		views = append(views, viewOf(a))
	}
	writeJSON(w, http.StatusOK, struct {
		Accounts []accountView `json:"accounts"`
	}{views})
}

func (s *Server) addAccount(w http.ResponseWriter, r *http.Request, c caller) {
	if !s.manages(w, r, c) {
		return
	}
	req, ok := readJSON(w, r, parseAccountAdd)
	if !ok {
		return
	}
	privs, _ := parseModes(req.Privileges) // checked by parseAccountAdd
	if req.Name == auth.GuestName {
		s.fail(w, r, errGuestAdd)
		return
	}
	if !s.master(w, r, req.Password) {
		return
	}
	if err := s.Accounts.Add(req.Name, req.NewPassword, privs); err != nil {
		s.accountFail(w, r, err)
		return
	}
	s.accountChanged(c, req.Name, "", "added with "+auth.FormatPrivileges(privs))
	writeJSON(w, http.StatusCreated, viewOf(auth.Account{Name: req.Name, Privileges: privs}))
}

// accountRequest checks a change to the account named in r's path: that the caller manages
// accounts here, that the name is one, and that the body parses; otherwise it answers r.
func accountRequest[T any](s *Server, w http.ResponseWriter, r *http.Request, c caller, parse func([]byte) (T, error)) (name string, req T, ok bool) {
	if !s.manages(w, r, c) {
		return "", req, false
	}
	name = r.PathValue("name")
	if auth.ValidateName(name) != nil {
		s.fail(w, r, errBadName)
		return "", req, false
	}
	if req, ok = readJSON(w, r, parse); !ok {
		return "", req, false
	}
	return name, req, true
}

func (s *Server) removeAccount(w http.ResponseWriter, r *http.Request, c caller) {
	name, req, ok := accountRequest(s, w, r, c, parseMasterOnly)
	if !ok {
		return
	}
	if name == auth.AdminName {
		s.fail(w, r, errKeepAdmin)
		return
	}
	if !s.master(w, r, req.Password) {
		return
	}
	if err := s.Accounts.Remove(name); err != nil {
		s.accountFail(w, r, err)
		return
	}
	s.accountChanged(c, name, "", "removed")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) setAccountPassword(w http.ResponseWriter, r *http.Request, c caller) {
	name, req, ok := accountRequest(s, w, r, c, parseAccountPassword)
	if !ok {
		return
	}
	if name == auth.GuestName {
		s.fail(w, r, errGuestPass)
		return
	}
	if !s.master(w, r, req.Password) {
		return
	}
	if err := s.Accounts.SetPassword(name, req.NewPassword); err != nil {
		s.accountFail(w, r, err)
		return
	}
	s.accountChanged(c, name, "", "password set")
	w.WriteHeader(http.StatusNoContent)
}

// setAccountPrivileges sets each privilege the request names and leaves the others. The
// store changes one privilege at a time: an error part way (the disk, say) leaves the
// earlier ones changed, and each change made is in the activity log.
func (s *Server) setAccountPrivileges(w http.ResponseWriter, r *http.Request, c caller) {
	name, req, ok := accountRequest(s, w, r, c, parseAccountPrivileges)
	if !ok {
		return
	}
	privs, _ := parseModes(req.Privileges) // checked by parseAccountPrivileges
	m, named := privs[auth.PrivAdmin]
	switch {
	case named && name == auth.AdminName && m != auth.Allow:
		s.fail(w, r, errKeepAdmin)
		return
	case named && name == auth.GuestName && m != auth.Deny:
		s.fail(w, r, errGuestAdmin)
		return
	}
	if !s.master(w, r, req.Password) {
		return
	}
	for _, p := range auth.Privileges() {
		m, ok := privs[p]
		if !ok {
			continue
		}
		var err error
		if m == auth.Deny {
			err = s.Accounts.Revoke(name, p)
		} else {
			err = s.Accounts.Grant(name, p, m)
		}
		if err != nil {
			s.accountFail(w, r, err)
			return
		}
		s.accountChanged(c, name, p, "set to "+m.String())
	}
	w.WriteHeader(http.StatusNoContent)
}

// masterOnlyRequest is the body of a change that needs nothing but the admin password.
type masterOnlyRequest struct {
	Password string `json:"password"`
}

// parseMasterOnly takes an empty body for one without a password: a DELETE often has no
// body, and the answer should say that the password is missing.
func parseMasterOnly(b []byte) (masterOnlyRequest, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return masterOnlyRequest{}, nil
	}
	v, err := decodeJSON[masterOnlyRequest](b)
	if err == nil && len(v.Password) > maxPassword {
		err = badRequest("bad request: password too long")
	}
	return v, err
}

type accountAddRequest struct {
	Password    string            `json:"password"` // the admin's
	Name        string            `json:"name"`
	NewPassword string            `json:"new_password"`
	Privileges  map[string]string `json:"privileges"`
}

func parseAccountAdd(b []byte) (accountAddRequest, error) {
	v, err := decodeJSON[accountAddRequest](b)
	if err != nil {
		return v, err
	}
	if auth.ValidateName(v.Name) != nil {
		return v, errBadName
	}
	if err := checkPasswords(v.Password, v.NewPassword); err != nil {
		return v, err
	}
	_, err = parseModes(v.Privileges)
	return v, err
}

type accountPasswordRequest struct {
	Password    string `json:"password"` // the admin's
	NewPassword string `json:"new_password"`
}

func parseAccountPassword(b []byte) (accountPasswordRequest, error) {
	v, err := decodeJSON[accountPasswordRequest](b)
	if err != nil {
		return v, err
	}
	return v, checkPasswords(v.Password, v.NewPassword)
}

type accountPrivilegesRequest struct {
	Password   string            `json:"password"` // the admin's
	Privileges map[string]string `json:"privileges"`
}

func parseAccountPrivileges(b []byte) (accountPrivilegesRequest, error) {
	v, err := decodeJSON[accountPrivilegesRequest](b)
	switch {
	case err != nil:
		return v, err
	case len(v.Password) > maxPassword:
		return v, badRequest("bad request: password too long")
	case len(v.Privileges) == 0:
		return v, badRequest(`bad request: "privileges" names none to set`)
	}
	_, err = parseModes(v.Privileges)
	return v, err
}

// checkPasswords checks the admin's password and an account's new one. A new password must
// not be empty: that would make an account that logs in with SSH keys only, which the
// console cannot give it.
func checkPasswords(admin, password string) error {
	switch {
	case len(admin) > maxPassword || len(password) > maxPassword:
		return badRequest("bad request: password too long")
	case password == "":
		return badRequest("the account's new password is empty")
	}
	return nil
}

// parseModes reads privileges as the console sends them: allow, ask or deny, with "" and
// "none" meaning deny too.
func parseModes(privs map[string]string) (map[auth.Privilege]auth.Mode, error) {
	out := make(map[auth.Privilege]auth.Mode, len(privs))
	for _, name := range slices.Sorted(maps.Keys(privs)) { // the same error for the same request
		p := auth.Privilege(name)
		if !p.Valid() {
			return nil, badRequest(fmt.Sprintf("unknown privilege %.40q", name))
		}
		m := auth.Deny
		if s := privs[name]; s != "" && s != "none" {
			var err error
			if m, err = auth.ParseMode(s); err != nil {
				return nil, badRequest(fmt.Sprintf("privilege %s: unknown mode %.20q (valid: allow, ask, deny, none)", p, s))
			}
		}
		out[p] = m
	}
	return out, nil
}
