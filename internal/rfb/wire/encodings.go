package wire

import (
	"fmt"
	"slices"
)

// Encoding is an encoding number: how a rectangle's pixels are encoded, or, for a
// pseudo-encoding, an extension the client supports.
// See RFC 6143, sections 7.7, 7.8 and 8.1.3, and rfbproto, section "Encodings".
type Encoding int32

// Encodings of pixel data.
const (
	EncodingRaw      Encoding = 0    // RFC 6143, section 7.7.1
	EncodingCopyRect Encoding = 1    // RFC 6143, section 7.7.2
	EncodingRRE      Encoding = 2    // RFC 6143, section 7.7.3
	EncodingCoRRE    Encoding = 4    // rfbproto, "CoRRE Encoding"
	EncodingHextile  Encoding = 5    // RFC 6143, section 7.7.4
	EncodingZlib     Encoding = 6    // rfbproto, "zlib Encoding"
	EncodingTight    Encoding = 7    // rfbproto, "Tight Encoding"
	EncodingZlibHex  Encoding = 8    // rfbproto, "zlibhex Encoding"
	EncodingTRLE     Encoding = 15   // RFC 6143, section 7.7.5
	EncodingZRLE     Encoding = 16   // RFC 6143, section 7.7.6
	EncodingJPEG     Encoding = 21   // rfbproto, "JPEG Encoding"
	EncodingTightPNG Encoding = -260 // rfbproto, "Tight PNG Encoding"
)

// Pseudo-encodings: a client lists them in SetEncodings to say it supports an extension.
const (
	// EncodingQualityLevel0 to EncodingQualityLevel9 (-32 to -23) ask for JPEG quality 0 (low)
	// to 9 (high). See [QualityLevel].
	EncodingQualityLevel0 Encoding = -32
	EncodingQualityLevel9 Encoding = -23

	EncodingDesktopSize Encoding = -223 // RFC 6143, section 7.8.2
	EncodingLastRect    Encoding = -224 // rfbproto, "LastRect Pseudo-encoding"
	EncodingCursor      Encoding = -239 // RFC 6143, section 7.8.1
	EncodingXCursor     Encoding = -240 // rfbproto, "X Cursor Pseudo-encoding"

	// EncodingCompressLevel0 to EncodingCompressLevel9 (-256 to -247) ask for compression
	// level 0 (fast) to 9 (small). See [CompressLevel].
	EncodingCompressLevel0 Encoding = -256
	EncodingCompressLevel9 Encoding = -247

	EncodingQEMUPointerMotion    Encoding = -257 // rfbproto, "QEMU Pointer Motion Change Pseudo-encoding"
	EncodingQEMUExtendedKey      Encoding = -258 // rfbproto, "QEMU Extended Key Event Pseudo-encoding"
	EncodingQEMUAudio            Encoding = -259 // rfbproto, "QEMU Audio Pseudo-encoding"
	EncodingQEMULEDState         Encoding = -261 // rfbproto, "QEMU LED State Pseudo-encoding"
	EncodingGII                  Encoding = -305 // rfbproto, "gii Pseudo-encoding"
	EncodingDesktopName          Encoding = -307 // rfbproto, "DesktopName Pseudo-encoding"
	EncodingExtendedDesktopSize  Encoding = -308 // rfbproto, "ExtendedDesktopSize Pseudo-encoding"
	EncodingXVP                  Encoding = -309 // rfbproto, "xvp Pseudo-encoding"
	EncodingFence                Encoding = -312 // rfbproto, "Fence Pseudo-encoding"
	EncodingContinuousUpdates    Encoding = -313 // rfbproto, "ContinuousUpdates Pseudo-encoding"
	EncodingCursorWithAlpha      Encoding = -314 // rfbproto, "Cursor With Alpha Pseudo-encoding"
	EncodingExtendedMouseButtons Encoding = -316 // rfbproto, "ExtendedMouseButtons Pseudo-encoding"

	// EncodingFineQualityLevel0 to EncodingFineQualityLevel100 (-512 to -412) ask for JPEG
	// quality 0 to 100. See [FineQualityLevel].
	EncodingFineQualityLevel0   Encoding = -512
	EncodingFineQualityLevel100 Encoding = -412

	// EncodingSubsamp1X to EncodingSubsamp16X (-768 to -763) ask for a JPEG chrominance
	// subsampling. See rfbproto, "JPEG Subsampling Level Pseudo-Encoding".
	EncodingSubsamp1X   Encoding = -768
	EncodingSubsamp4X   Encoding = -767
	EncodingSubsamp2X   Encoding = -766
	EncodingSubsampGray Encoding = -765
	EncodingSubsamp8X   Encoding = -764
	EncodingSubsamp16X  Encoding = -763

	EncodingVMwareCursor         Encoding = 0x574d5664 // rfbproto, "VMware Cursor Pseudo-encoding"
	EncodingVMwareCursorState    Encoding = 0x574d5665
	EncodingVMwareCursorPosition Encoding = 0x574d5666
	EncodingVMwareKeyRepeat      Encoding = 0x574d5667
	EncodingVMwareLEDState       Encoding = 0x574d5668
	EncodingVMwareDisplayMode    Encoding = 0x574d5669
	EncodingVMwareVMState        Encoding = 0x574d566a

	// EncodingExtendedClipboard is 0xC0A1E5CE read as a signed number.
	// See rfbproto, "Extended Clipboard Pseudo-Encoding".
	EncodingExtendedClipboard Encoding = -0x3f5e1a32
)

// String names e for logs: "tight", "quality-level-6", "compress-level-2", or "encoding(123)"
// for a number this package does not know.
func (e Encoding) String() string {
	switch e {
	case EncodingRaw:
		return "raw"
	case EncodingCopyRect:
		return "copyrect"
	case EncodingRRE:
		return "rre"
	case EncodingCoRRE:
		return "corre"
	case EncodingHextile:
		return "hextile"
	case EncodingZlib:
		return "zlib"
	case EncodingTight:
		return "tight"
	case EncodingZlibHex:
		return "zlibhex"
	case EncodingTRLE:
		return "trle"
	case EncodingZRLE:
		return "zrle"
	case EncodingJPEG:
		return "jpeg"
	case EncodingTightPNG:
		return "tightpng"
	case EncodingDesktopSize:
		return "desktop-size"
	case EncodingLastRect:
		return "last-rect"
	case EncodingCursor:
		return "cursor"
	case EncodingXCursor:
		return "x-cursor"
	case EncodingQEMUPointerMotion:
		return "qemu-pointer-motion"
	case EncodingQEMUExtendedKey:
		return "qemu-extended-key"
	case EncodingQEMUAudio:
		return "qemu-audio"
	case EncodingQEMULEDState:
		return "qemu-led-state"
	case EncodingGII:
		return "gii"
	case EncodingDesktopName:
		return "desktop-name"
	case EncodingExtendedDesktopSize:
		return "extended-desktop-size"
	case EncodingXVP:
		return "xvp"
	case EncodingFence:
		return "fence"
	case EncodingContinuousUpdates:
		return "continuous-updates"
	case EncodingCursorWithAlpha:
		return "cursor-with-alpha"
	case EncodingExtendedMouseButtons:
		return "extended-mouse-buttons"
	case EncodingSubsamp1X:
		return "subsamp-1x"
	case EncodingSubsamp4X:
		return "subsamp-4x"
	case EncodingSubsamp2X:
		return "subsamp-2x"
	case EncodingSubsampGray:
		return "subsamp-gray"
	case EncodingSubsamp8X:
		return "subsamp-8x"
	case EncodingSubsamp16X:
		return "subsamp-16x"
	case EncodingVMwareCursor:
		return "vmware-cursor"
	case EncodingVMwareCursorState:
		return "vmware-cursor-state"
	case EncodingVMwareCursorPosition:
		return "vmware-cursor-position"
	case EncodingVMwareKeyRepeat:
		return "vmware-key-repeat"
	case EncodingVMwareLEDState:
		return "vmware-led-state"
	case EncodingVMwareDisplayMode:
		return "vmware-display-mode"
	case EncodingVMwareVMState:
		return "vmware-vm-state"
	case EncodingExtendedClipboard:
		return "extended-clipboard"
	}
	switch {
	case e >= EncodingQualityLevel0 && e <= EncodingQualityLevel9:
		return fmt.Sprintf("quality-level-%d", e-EncodingQualityLevel0)
	case e >= EncodingCompressLevel0 && e <= EncodingCompressLevel9:
		return fmt.Sprintf("compress-level-%d", e-EncodingCompressLevel0)
	case e >= EncodingFineQualityLevel0 && e <= EncodingFineQualityLevel100:
		return fmt.Sprintf("fine-quality-level-%d", e-EncodingFineQualityLevel0)
	}
	return fmt.Sprintf("encoding(%d)", int32(e))
}

// Has reports whether encs lists e.
func Has(encs []Encoding, e Encoding) bool { return slices.Contains(encs, e) }

// QualityLevel returns the JPEG quality level, 0 (low) to 9 (high), of the first quality-level
// pseudo-encoding in encs, and false if there is none.
// See rfbproto, "JPEG Quality Level Pseudo-encoding".
func QualityLevel(encs []Encoding) (int, bool) {
	return levelIn(encs, EncodingQualityLevel0, EncodingQualityLevel9)
}

// FineQualityLevel returns the JPEG quality, 0 to 100, of the first fine-grained quality
// pseudo-encoding in encs, and false if there is none.
// See rfbproto, "JPEG Fine-Grained Quality Level Pseudo-encoding".
func FineQualityLevel(encs []Encoding) (int, bool) {
	return levelIn(encs, EncodingFineQualityLevel0, EncodingFineQualityLevel100)
}

// CompressLevel returns the compression level, 0 (fast) to 9 (small), of the first
// compression-level pseudo-encoding in encs, and false if there is none.
// See rfbproto, "Compression Level Pseudo-encoding".
func CompressLevel(encs []Encoding) (int, bool) {
	return levelIn(encs, EncodingCompressLevel0, EncodingCompressLevel9)
}

// levelIn returns the offset from lo of the first encoding in [lo, hi].
func levelIn(encs []Encoding, lo, hi Encoding) (int, bool) {
	for _, e := range encs {
		if e >= lo && e <= hi {
			return int(e - lo), true
		}
	}
	return 0, false
}
