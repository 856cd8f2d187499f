package wire

import "testing"

func TestEncodingString(t *testing.T) {
	tests := []struct {
		e    Encoding
		want string
	}{
		{EncodingTight, "tight"},
		{EncodingZRLE, "zrle"},
		{EncodingQualityLevel0 + 6, "quality-level-6"},
		{EncodingCompressLevel9, "compress-level-9"},
		{EncodingFineQualityLevel0 + 85, "fine-quality-level-85"},
		{EncodingExtendedClipboard, "extended-clipboard"},
		{EncodingVMwareCursor, "vmware-cursor"},
		{1234, "encoding(1234)"},
		{-1, "encoding(-1)"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("Encoding(%d).String() = %q; want %q", int32(tt.e), got, tt.want)
		}
	}
	if e := EncodingExtendedClipboard; uint32(e) != 0xC0A1E5CE {
		t.Errorf("EncodingExtendedClipboard = %#x; want 0xc0a1e5ce", uint32(e))
	}
}

func TestLevels(t *testing.T) {
	// What noVNC 1.x sends with quality 6 and compression 2, in its order.
	novnc := []Encoding{EncodingCopyRect, EncodingTight, EncodingTightPNG, EncodingZRLE, EncodingHextile,
		EncodingRaw, EncodingQualityLevel0 + 6, EncodingCompressLevel0 + 2, EncodingDesktopSize, EncodingLastRect,
		EncodingQEMUExtendedKey, EncodingExtendedDesktopSize, EncodingFence, EncodingContinuousUpdates,
		EncodingDesktopName, EncodingExtendedClipboard, EncodingCursor}
	tests := []struct {
		name   string
		encs   []Encoding
		f      func([]Encoding) (int, bool)
		want   int
		wantOK bool
	}{
		{"noVNC quality", novnc, QualityLevel, 6, true},
		{"noVNC compression", novnc, CompressLevel, 2, true},
		{"noVNC fine quality", novnc, FineQualityLevel, 0, false},
		{"first quality wins", []Encoding{EncodingQualityLevel9, EncodingQualityLevel0}, QualityLevel, 9, true},
		{"fine quality", []Encoding{EncodingFineQualityLevel100}, FineQualityLevel, 100, true},
		{"none", nil, CompressLevel, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := tt.f(tt.encs); got != tt.want || ok != tt.wantOK {
				t.Errorf("level of %v = %d, %v; want %d, %v", tt.encs, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	if !Has(novnc, EncodingExtendedClipboard) || Has(novnc, EncodingZlib) {
		t.Error("Has got noVNC's list wrong")
	}
}
