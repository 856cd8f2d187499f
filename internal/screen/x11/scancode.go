package x11

import (
	"errors"

	"github.com/jezek/xgb/xproto"
)

// ErrUnknownScancode means a QEMU key number has no key on an evdev keyboard.
var ErrUnknownScancode = errors.New("x11: unknown scancode")

// keycodeOfQnum returns the X keycode of the key with QEMU key number q. QEMU numbers keys
// by their XT (PC scan code set 1) make code, adding 0x80 to those sent after an 0xE0
// prefix; an X server using evdev keycodes (Xorg with libinput or evdev, Xvfb, Xwayland)
// numbers a key by its Linux input event code plus 8.
func keycodeOfQnum(q uint32) (xproto.Keycode, bool) {
	var code int
	switch {
	case q >= 0x01 && q <= 0x53:
		code = int(q) // Escape to keypad '.': the XT code is the Linux code
	case q < 0x100:
		code = int(qnumEvdev[q])
	}
	if code == 0 {
		return 0, false
	}
	return xproto.Keycode(code + 8), true
}

// qnumEvdev maps QEMU key numbers from 0x54 up to Linux input event codes (the names after
// each are the KEY_ constants of linux/input-event-codes.h). It follows the "qnum" and
// "linux" columns of keymaps.csv in QEMU's keycodemapdb, published as libvirt's
// virkeycode-qnum(7). It is never written to.
var qnumEvdev = [256]uint8{
	0x54: 99,  // SYSRQ
	0x55: 186, // F16
	0x56: 86,  // 102ND
	0x57: 87,  // F11
	0x58: 88,  // F12
	0x59: 117, // KPEQUAL
	0x5a: 190, // F20
	0x5b: 101, // LINEFEED
	0x5c: 95,  // KPJPCOMMA
	0x5d: 183, // F13
	0x5e: 184, // F14
	0x5f: 185, // F15
	0x63: 169, // PHONE
	0x64: 134, // OPEN
	0x65: 135, // PASTE
	0x66: 141, // SETUP
	0x67: 144, // FILE
	0x68: 145, // SENDFILE
	0x69: 146, // DELETEFILE
	0x6a: 151, // MSDOS
	0x6b: 153, // DIRECTION
	0x6c: 161, // EJECTCD
	0x6d: 193, // F23
	0x6f: 194, // F24
	0x70: 93,  // KATAKANAHIRAGANA
	0x71: 174, // EXIT
	0x72: 175, // MOVE
	0x73: 89,  // RO
	0x74: 191, // F21
	0x75: 177, // SCROLLUP
	0x76: 85,  // ZENKAKUHANKAKU
	0x77: 91,  // HIRAGANA
	0x78: 90,  // KATAKANA
	0x79: 92,  // HENKAN
	0x7b: 94,  // MUHENKAN
	0x7d: 124, // YEN
	0x7e: 121, // KPCOMMA
	0x81: 171, // CONFIG
	0x82: 150, // WWW
	0x83: 187, // F17
	0x84: 189, // F19
	0x85: 129, // AGAIN
	0x86: 130, // PROPS
	0x87: 131, // UNDO
	0x88: 176, // EDIT
	0x89: 181, // NEW
	0x8a: 182, // REDO
	0x8b: 120, // SCALE
	0x8c: 132, // FRONT
	0x8d: 123, // HANJA
	0x8e: 233, // FORWARDMAIL
	0x8f: 178, // SCROLLDOWN
	0x90: 165, // PREVIOUSSONG
	0x92: 152, // SCREENLOCK
	0x93: 147, // XFER
	0x94: 222, // ALTERASE
	0x97: 149, // PROG2
	0x98: 168, // REWIND
	0x99: 163, // NEXTSONG
	0x9c: 96,  // KPENTER
	0x9d: 97,  // RIGHTCTRL
	0x9e: 139, // MENU
	0x9f: 148, // PROG1
	0xa0: 113, // MUTE
	0xa1: 140, // CALC
	0xa2: 164, // PLAYPAUSE
	0xa3: 160, // CLOSECD
	0xa4: 166, // STOPCD
	0xa5: 205, // SUSPEND
	0xa6: 154, // CYCLEWINDOWS
	0xa8: 200, // PLAYCD
	0xa9: 201, // PAUSECD
	0xab: 202, // PROG3
	0xac: 203, // PROG4
	0xad: 204, // DASHBOARD
	0xae: 114, // VOLUMEDOWN
	0xaf: 206, // CLOSE
	0xb0: 115, // VOLUMEUP
	0xb1: 167, // RECORD
	0xb2: 172, // HOMEPAGE
	0xb3: 207, // PLAY
	0xb4: 208, // FASTFORWARD
	0xb5: 98,  // KPSLASH
	0xb6: 209, // BASSBOOST
	0xb7: 99,  // SYSRQ
	0xb8: 100, // RIGHTALT
	0xb9: 210, // PRINT
	0xba: 211, // HP
	0xbb: 212, // CAMERA
	0xbc: 137, // CUT
	0xbd: 213, // SOUND
	0xbe: 214, // QUESTION
	0xbf: 215, // EMAIL
	0xc0: 216, // CHAT
	0xc1: 136, // FIND
	0xc2: 218, // CONNECT
	0xc3: 219, // FINANCE
	0xc4: 220, // SPORT
	0xc5: 221, // SHOP
	0xc6: 119, // PAUSE
	0xc7: 102, // HOME
	0xc8: 103, // UP
	0xc9: 104, // PAGEUP
	0xca: 223, // CANCEL
	0xcb: 105, // LEFT
	0xcc: 224, // BRIGHTNESSDOWN
	0xcd: 106, // RIGHT
	0xce: 118, // KPPLUSMINUS
	0xcf: 107, // END
	0xd0: 108, // DOWN
	0xd1: 109, // PAGEDOWN
	0xd2: 110, // INSERT
	0xd3: 111, // DELETE
	0xd4: 225, // BRIGHTNESSUP
	0xd5: 234, // SAVE
	0xd6: 227, // SWITCHVIDEOMODE
	0xd7: 228, // KBDILLUMTOGGLE
	0xd8: 229, // KBDILLUMDOWN
	0xd9: 230, // KBDILLUMUP
	0xda: 231, // SEND
	0xdb: 125, // LEFTMETA
	0xdc: 126, // RIGHTMETA
	0xdd: 127, // COMPOSE
	0xde: 116, // POWER
	0xdf: 142, // SLEEP
	0xe3: 143, // WAKEUP
	0xe4: 232, // REPLY
	0xe5: 217, // SEARCH
	0xe6: 156, // BOOKMARKS
	0xe7: 173, // REFRESH
	0xe8: 128, // STOP
	0xe9: 159, // FORWARD
	0xea: 158, // BACK
	0xeb: 157, // COMPUTER
	0xec: 155, // MAIL
	0xed: 226, // MEDIA
	0xef: 112, // MACRO
	0xf0: 235, // DOCUMENTS
	0xf1: 236, // BATTERY
	0xf2: 237, // BLUETOOTH
	0xf3: 238, // WLAN
	0xf4: 239, // UWB
	0xf5: 138, // HELP
	0xf6: 179, // KPLEFTPAREN
	0xf7: 188, // F18
	0xf8: 133, // COPY
	0xf9: 192, // F22
	0xfb: 180, // KPRIGHTPAREN
	0xfd: 162, // EJECTCLOSECD
}
