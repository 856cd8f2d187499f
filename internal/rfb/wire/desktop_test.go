package wire

import (
	"errors"
	"testing"
)

func TestSetDesktopSizeValidate(t *testing.T) {
	screen := func(id uint32, x, y, w, h uint16) Screen { return Screen{ID: id, X: x, Y: y, Width: w, Height: h} }
	many := make([]Screen, 255)
	for i := range many {
		many[i] = screen(uint32(i), uint16(i), 0, 1, 1)
	}
	tests := []struct {
		name    string
		m       SetDesktopSize
		wantErr bool
	}{
		{"one screen, the whole framebuffer", SetDesktopSize{Width: 1280, Height: 800, Screens: []Screen{screen(7, 0, 0, 1280, 800)}}, false},
		{"two screens side by side", SetDesktopSize{Width: 2560, Height: 800, Screens: []Screen{screen(1, 0, 0, 1280, 800), screen(2, 1280, 0, 1280, 800)}}, false},
		{"overlapping screens", SetDesktopSize{Width: 100, Height: 100, Screens: []Screen{screen(1, 0, 0, 100, 100), screen(2, 10, 10, 50, 50)}}, false},
		{"unknown screen flags", SetDesktopSize{Width: 10, Height: 10, Screens: []Screen{{ID: 1, Width: 10, Height: 10, Flags: 0xFFFFFFFF}}}, false},
		{"255 screens", SetDesktopSize{Width: 255, Height: 1, Screens: many}, false},
		{"the largest framebuffer", SetDesktopSize{Width: 65535, Height: 65535, Screens: []Screen{screen(0, 0, 0, 65535, 65535)}}, false},
		{"no screens", SetDesktopSize{Width: 1280, Height: 800}, true},
		{"256 screens", SetDesktopSize{Width: 256, Height: 1, Screens: append(many, screen(255, 255, 0, 1, 1))}, true},
		{"zero width", SetDesktopSize{Width: 0, Height: 800, Screens: []Screen{screen(1, 0, 0, 0, 800)}}, true},
		{"zero height", SetDesktopSize{Width: 1280, Height: 0, Screens: []Screen{screen(1, 0, 0, 1280, 0)}}, true},
		{"empty screen", SetDesktopSize{Width: 1280, Height: 800, Screens: []Screen{screen(1, 0, 0, 0, 0)}}, true},
		{"screen wider than the framebuffer", SetDesktopSize{Width: 1280, Height: 800, Screens: []Screen{screen(1, 0, 0, 1281, 800)}}, true},
		{"screen past the right edge", SetDesktopSize{Width: 1280, Height: 800, Screens: []Screen{screen(1, 1000, 0, 281, 800)}}, true},
		{"screen past the bottom edge", SetDesktopSize{Width: 1280, Height: 800, Screens: []Screen{screen(1, 0, 1, 1280, 800)}}, true},
		{"screen whose end overflows 16 bits", SetDesktopSize{Width: 65535, Height: 65535, Screens: []Screen{screen(1, 65535, 65535, 65535, 65535)}}, true},
		{"two screens with one id", SetDesktopSize{Width: 2560, Height: 800, Screens: []Screen{screen(1, 0, 0, 1280, 800), screen(1, 1280, 0, 1280, 800)}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if (err != nil) != tt.wantErr || err != nil && !errors.Is(err, ErrInvalidLayout) {
				t.Errorf("SetDesktopSize{%dx%d, %d screens}.Validate() = %v; want an error: %v", tt.m.Width, tt.m.Height, len(tt.m.Screens), err, tt.wantErr)
			}
		})
	}
}
