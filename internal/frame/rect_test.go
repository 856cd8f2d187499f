package frame

import "testing"

func TestRectIntersect(t *testing.T) {
	tests := []struct {
		name string
		a, b Rect
		want Rect
	}{
		{"overlap", Rect{0, 0, 10, 10}, Rect{5, 5, 10, 10}, Rect{5, 5, 5, 5}},
		{"inside", Rect{0, 0, 10, 10}, Rect{2, 3, 4, 5}, Rect{2, 3, 4, 5}},
		{"touching", Rect{0, 0, 10, 10}, Rect{10, 0, 5, 5}, Rect{}},
		{"apart", Rect{0, 0, 1, 1}, Rect{5, 5, 1, 1}, Rect{}},
		{"empty", Rect{0, 0, 10, 10}, Rect{1, 1, 0, 5}, Rect{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Intersect(tt.b); got != tt.want {
				t.Errorf("%v.Intersect(%v) = %v; want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestRectPredicates(t *testing.T) {
	r := Rect{10, 20, 30, 40}
	tests := []struct {
		name      string
		got, want bool
	}{
		{"contains top-left", r.Contains(10, 20), true},
		{"contains bottom-right", r.Contains(39, 59), true},
		{"contains right edge", r.Contains(40, 30), false},
		{"in itself", r.In(r), true},
		{"in smaller", r.In(Rect{11, 20, 30, 40}), false},
		{"empty in anything", Rect{100, 100, 0, 0}.In(r), true},
		{"overlaps", r.Overlaps(Rect{39, 59, 5, 5}), true},
		{"not overlaps", r.Overlaps(Rect{40, 60, 5, 5}), false},
		{"empty", Rect{1, 1, 0, 3}.Empty(), true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v; want %v", tt.name, tt.got, tt.want)
		}
	}
	if got, want := r.Union(Rect{0, 0, 1, 1}), (Rect{0, 0, 40, 60}); got != want {
		t.Errorf("Union = %v; want %v", got, want)
	}
	if got, want := r.String(), "30x40+10+20"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}
