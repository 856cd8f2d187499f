package x11

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode"

	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// Keysyms the keyboard code treats specially.
const (
	keysymISOLevel3Shift = 0xfe03
	keysymModeSwitch     = 0xff7e
)

// levelAny marks a keysym that comes out whatever the Shift state.
const levelAny = -1

// keyboard is the keyboard state a Conn keeps: the server's mapping as last read, what it
// pressed, and the spare keycodes it borrows for keysyms the layout lacks.
type keyboard struct {
	min, max xproto.Keycode
	per      int                 // keysyms per keycode
	syms     []xproto.Keysym     // per entries for each keycode from min
	mods     [8][]xproto.Keycode // the modifier mapping: Shift, Lock, Control, Mod1..Mod5
	loaded   bool

	pressed map[uint32]xproto.Keycode // keysyms pressed through Key, and their keycode
	scan    map[xproto.Keycode]bool   // keycodes pressed through KeyScancode
	spare   []spareKey                // keycodes with no keysym, least recently used first
}

// spareKey is a keycode the layout leaves empty, and the keysym we put on it (0: none).
type spareKey struct {
	code xproto.Keycode
	sym  uint32
}

// loadKeymapLocked reads the keyboard and modifier mappings when they changed.
func (c *Conn) loadKeymapLocked() error {
	kb := &c.kb
	if kb.loaded && !c.stale.Load() {
		return nil
	}
	c.stale.Store(false)
	count := int(kb.max) - int(kb.min) + 1
	km, err := xproto.GetKeyboardMapping(c.xc, kb.min, byte(count)).Reply()
	if err != nil {
		return c.wrap("read keyboard mapping", err)
	}
	mm, err := xproto.GetModifierMapping(c.xc).Reply()
	if err != nil {
		return c.wrap("read modifier mapping", err)
	}
	kb.per, kb.syms = int(km.KeysymsPerKeycode), km.Keysyms
	per := int(mm.KeycodesPerModifier)
	for i := range kb.mods {
		kb.mods[i] = nil
		for _, k := range mm.Keycodes[i*per : (i+1)*per] {
			if k != 0 {
				kb.mods[i] = append(kb.mods[i], k)
			}
		}
	}
	if !kb.loaded {
		kb.pressed = map[uint32]xproto.Keycode{}
		kb.scan = map[xproto.Keycode]bool{}
		for code := int(kb.min); code <= int(kb.max); code++ {
			if !kb.isModifier(xproto.Keycode(code)) && kb.empty(xproto.Keycode(code)) {
				kb.spare = append(kb.spare, spareKey{code: xproto.Keycode(code)})
			}
		}
	}
	kb.loaded = true
	return nil
}

// symsOf returns the keysyms of code.
func (kb *keyboard) symsOf(code xproto.Keycode) []xproto.Keysym {
	i := (int(code) - int(kb.min)) * kb.per
	if code < kb.min || i+kb.per > len(kb.syms) {
		return nil
	}
	return kb.syms[i : i+kb.per]
}

func (kb *keyboard) empty(code xproto.Keycode) bool {
	for _, s := range kb.symsOf(code) {
		if s != 0 {
			return false
		}
	}
	return true
}

func (kb *keyboard) isModifier(code xproto.Keycode) bool {
	for _, row := range kb.mods {
		if slices.Contains(row, code) {
			return true
		}
	}
	return false
}

// levels returns the keysyms code gives without and with Shift in the first group, filling
// in the second the way the core protocol says when the layout leaves it empty.
func (kb *keyboard) levels(code xproto.Keycode) (plain, shifted uint32) {
	s := kb.symsOf(code)
	if len(s) == 0 {
		return 0, 0
	}
	plain = uint32(s[0])
	if len(s) > 1 {
		shifted = uint32(s[1])
	}
	if shifted == 0 {
		if hasCase(plain) {
			return lowerKeysym(plain), upperKeysym(plain)
		}
		shifted = plain
	}
	return plain, shifted
}

// find returns a keycode producing keysym in the first group, preferring one that needs no
// Shift, and the level it is on (0, 1 or levelAny).
func (kb *keyboard) find(keysym uint32) (xproto.Keycode, int, bool) {
	var alt xproto.Keycode
	for code := int(kb.min); code <= int(kb.max); code++ {
		plain, shifted := kb.levels(xproto.Keycode(code))
		switch {
		case plain == keysym && shifted == keysym:
			return xproto.Keycode(code), levelAny, true
		case plain == keysym:
			return xproto.Keycode(code), 0, true
		case shifted == keysym && alt == 0:
			alt = xproto.Keycode(code)
		}
	}
	return alt, 1, alt != 0
}

// Key presses (down) or releases the key that types keysym, as an RFB KeyEvent asks. A
// keysym on the Shift level is typed with Shift pressed around it, one on the plain level
// with Shift (and AltGr) released around it, so what the user holds cannot change the
// result; Caps Lock is taken into account for letters. A keysym the layout lacks is put on
// a spare keycode, which keeps it until the spare is needed again or Close. Releasing a
// keysym releases the keycode pressed for it. See RFC 6143, section 7.5.4.
func (c *Conn) Key(keysym uint32, down bool) error {
	if !c.has.xtest {
		return fmt.Errorf("type key: XTEST: %w", ErrUnsupported)
	}
	if keysym == 0 {
		return nil // NoSymbol types nothing
	}
	c.keyMu.Lock()
	defer c.keyMu.Unlock()
	if err := c.loadKeymapLocked(); err != nil {
		return err
	}
	kb := &c.kb
	if !down {
		code, ok := kb.pressed[keysym]
		if !ok {
			return nil // never pressed through us: nothing to release
		}
		delete(kb.pressed, keysym)
		return c.fakeKey(code, false)
	}
	if code, ok := kb.pressed[keysym]; ok {
		return c.fakeKey(code, true) // auto-repeat
	}
	code, level, ok := kb.find(keysym)
	if !ok {
		var err error
		if code, err = c.borrowLocked(keysym); err != nil {
			return err
		}
		level = levelAny
	}
	kb.pressed[keysym] = code
	if level == levelAny || kb.isModifier(code) {
		return c.fakeKey(code, true)
	}
	return c.pressAtLevelLocked(code, level == 1, hasCase(keysym))
}

// pressAtLevelLocked presses code with Shift in the wanted state, putting the modifiers
// back as they were right after.
func (c *Conn) pressAtLevelLocked(code xproto.Keycode, shift, letter bool) error {
	kb := &c.kb
	ptr, err := xproto.QueryPointer(c.xc, c.root).Reply()
	if err != nil {
		return c.wrap("read modifier state", err)
	}
	state := ptr.Mask
	if letter && state&xproto.KeyButMaskLock != 0 {
		shift = !shift // Caps Lock inverts the level of letters
	}
	var hold, lift []xproto.Keycode // modifiers to press, and to release, around code
	shiftOn := state&xproto.KeyButMaskShift != 0
	if shift && !shiftOn && len(kb.mods[0]) > 0 {
		hold = append(hold, kb.mods[0][0])
	}
	var down [32]byte
	liftRows := kb.levelRows(state)
	if !shift && shiftOn {
		liftRows = append(liftRows, 0)
	}
	if len(liftRows) > 0 {
		km, err := xproto.QueryKeymap(c.xc).Reply()
		if err != nil {
			return c.wrap("read pressed keys", err)
		}
		copy(down[:], km.Keys)
		for _, row := range liftRows {
			for _, k := range kb.mods[row] {
				if down[k/8]&(1<<(k%8)) != 0 {
					lift = append(lift, k)
				}
			}
		}
	}
	var errs []error
	for _, k := range hold {
		errs = append(errs, c.fakeKey(k, true))
	}
	for _, k := range lift {
		errs = append(errs, c.fakeKey(k, false))
	}
	errs = append(errs, c.fakeKey(code, true))
	for _, k := range lift {
		errs = append(errs, c.fakeKey(k, true))
	}
	for _, k := range hold {
		errs = append(errs, c.fakeKey(k, false))
	}
	return errors.Join(errs...)
}

// levelRows returns the modifier rows that are active in state and hold a key that picks
// another level or group (AltGr, Mode_switch), which must not apply to a key we type on
// the first or second level.
func (kb *keyboard) levelRows(state uint16) []int {
	var rows []int
	for row := 3; row < 8; row++ {
		if state&(1<<row) == 0 {
			continue
		}
		for _, k := range kb.mods[row] {
			plain, _ := kb.levels(k)
			if plain == keysymISOLevel3Shift || plain == keysymModeSwitch {
				rows = append(rows, row)
				break
			}
		}
	}
	return rows
}

// borrowLocked puts keysym on a spare keycode, on every level, and returns the keycode.
func (c *Conn) borrowLocked(keysym uint32) (xproto.Keycode, error) {
	kb := &c.kb
	pick := -1
	for i, s := range kb.spare {
		if s.sym != 0 && slices.Contains(kb.pressedCodes(), s.code) {
			continue
		}
		// Someone else may have mapped the keycode since: leave it to them.
		if !kb.empty(s.code) && (s.sym == 0 || uint32(kb.symsOf(s.code)[0]) != s.sym) {
			continue
		}
		pick = i
		break
	}
	if pick < 0 {
		return 0, fmt.Errorf("type keysym %#x: no spare keycode left", keysym)
	}
	s := kb.spare[pick]
	syms := make([]xproto.Keysym, kb.per)
	syms[0] = xproto.Keysym(keysym)
	if kb.per > 1 {
		syms[1] = xproto.Keysym(keysym)
	}
	if err := xproto.ChangeKeyboardMappingChecked(c.xc, 1, s.code, byte(kb.per), syms).Check(); err != nil {
		return 0, c.wrap(fmt.Sprintf("map keysym %#x to keycode %d", keysym, s.code), err)
	}
	copy(kb.symsOf(s.code), syms)
	// Most recently used last: the front of the list is reused first.
	kb.spare = append(slices.Delete(kb.spare, pick, pick+1), spareKey{code: s.code, sym: keysym})
	return s.code, nil
}

// pressedCodes lists the keycodes pressed through Key.
func (kb *keyboard) pressedCodes() []xproto.Keycode {
	codes := make([]xproto.Keycode, 0, len(kb.pressed))
	for _, k := range kb.pressed {
		codes = append(codes, k)
	}
	return codes
}

// restoreKeymapLocked empties the spare keycodes we borrowed.
func (c *Conn) restoreKeymapLocked() {
	kb := &c.kb
	for i, s := range kb.spare {
		if s.sym == 0 {
			continue
		}
		syms := make([]xproto.Keysym, kb.per)
		xproto.ChangeKeyboardMapping(c.xc, 1, s.code, byte(kb.per), syms)
		kb.spare[i].sym = 0
	}
}

// KeyScancode presses or releases the key with the given QEMU key number, as the QEMU
// Extended Key Event carries it: an XT scancode, with keys sent after an 0xE0 prefix
// numbered 0x80 and up. The key is pressed as it is, without touching the modifiers.
// ErrUnknownScancode means the caller should fall back to Key with the event's keysym.
func (c *Conn) KeyScancode(scancode uint32, down bool) error {
	if !c.has.xtest {
		return fmt.Errorf("type key: XTEST: %w", ErrUnsupported)
	}
	code, ok := keycodeOfQnum(scancode)
	c.keyMu.Lock()
	defer c.keyMu.Unlock()
	if !ok || code < c.kb.min || code > c.kb.max {
		return fmt.Errorf("type scancode %#x: %w", scancode, ErrUnknownScancode)
	}
	if err := c.loadKeymapLocked(); err != nil {
		return err
	}
	if down {
		c.kb.scan[code] = true
	} else {
		delete(c.kb.scan, code)
	}
	return c.fakeKey(code, down)
}

// ReleaseAll releases every key and button pressed through this Conn: call it when the
// viewer that pressed them goes away.
func (c *Conn) ReleaseAll() error {
	var errs []error
	if c.has.xtest {
		c.keyMu.Lock()
		for sym, code := range c.kb.pressed {
			errs = append(errs, c.fakeKey(code, false))
			delete(c.kb.pressed, sym)
		}
		for code := range c.kb.scan {
			errs = append(errs, c.fakeKey(code, false))
			delete(c.kb.scan, code)
		}
		c.keyMu.Unlock()
	}
	c.ptrMu.Lock()
	defer c.ptrMu.Unlock()
	if c.ptr.buttons != 0 {
		errs = append(errs, c.pointerLocked(0, c.ptr.x, c.ptr.y))
	}
	return errors.Join(errs...)
}

// fakeKey sends a key event through XTEST.
func (c *Conn) fakeKey(code xproto.Keycode, down bool) error {
	typ := byte(xproto.KeyRelease)
	if down {
		typ = xproto.KeyPress
	}
	return c.fake(typ, byte(code), 0, 0)
}

// fake sends one XTEST event. It does not wait for the server: errors arrive with the
// events and are logged, and only a closed connection is reported.
func (c *Conn) fake(typ, detail byte, x, y int16) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	c.lastFake.Store(time.Now().UnixNano())
	xtest.FakeInput(c.xc, typ, detail, 0, c.root, x, y, 0)
	return nil
}

// keysymRune returns the character keysym stands for: Latin-1 keysyms are their code
// point, and 0x1000000 plus a code point is that code point.
func keysymRune(ks uint32) (rune, bool) {
	switch {
	case ks >= 0x20 && ks <= 0x7e, ks >= 0xa0 && ks <= 0xff:
		return rune(ks), true
	case ks >= 0x1000100 && ks <= 0x110ffff:
		return rune(ks - 0x1000000), true
	}
	return 0, false
}

// runeKeysym is keysymRune's inverse.
func runeKeysym(r rune) uint32 {
	if r >= 0x20 && r <= 0x7e || r >= 0xa0 && r <= 0xff {
		return uint32(r)
	}
	return 0x1000000 + uint32(r)
}

func hasCase(ks uint32) bool {
	r, ok := keysymRune(ks)
	return ok && unicode.ToUpper(r) != unicode.ToLower(r)
}

func upperKeysym(ks uint32) uint32 {
	if r, ok := keysymRune(ks); ok {
		return runeKeysym(unicode.ToUpper(r))
	}
	return ks
}

func lowerKeysym(ks uint32) uint32 {
	if r, ok := keysymRune(ks); ok {
		return runeKeysym(unicode.ToLower(r))
	}
	return ks
}
