package serial

import (
	"strings"
	"testing"
)

func TestAdapterHint(t *testing.T) {
	tests := []struct {
		vid, pid string
		want     string // a word the hint must contain; "" for no hint
	}{
		{"1a86", "7523", "CH340"},
		{"1A86", "7523", "CH340"},
		{"1a86", "55d3", "CH343"},
		{"1A86", "55D3", "SO-101"},
		{"1a86", "55d4", "CH9102"},
		{"0x1a86", "0x55D4", "Waveshare"},
		{"0403", "6001", "FTDI"},
		{"0403", "6010", "FTDI"},
		{"0403", "6014", "FTDI"},
		{"0403", "6015", "FTDI"},
		{"10c4", "ea60", "CP210x"},
		{"10C4", "EA70", "CP210x"},
		{"1a86", "7522", ""},
		{"0403", "6011", ""},
		{"2341", "0043", ""}, // an Arduino Uno
		{"", "", ""},
	}
	for _, tt := range tests {
		got := AdapterHint(tt.vid, tt.pid)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("AdapterHint(%q, %q) = %q, want one containing %q", tt.vid, tt.pid, got, tt.want)
		}
	}
}

func FuzzAdapterHint(f *testing.F) {
	for _, s := range [][2]string{{"1a86", "55d3"}, {"0403", "6001"}, {"10C4", "EA60"}, {"", ""}, {"0x", "ß"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, vid, pid string) {
		got := AdapterHint(vid, pid)
		if up := AdapterHint(strings.ToUpper(vid), strings.ToUpper(pid)); up != got && strings.ToLower(strings.ToUpper(vid)) == strings.ToLower(vid) && strings.ToLower(strings.ToUpper(pid)) == strings.ToLower(pid) {
			t.Errorf("AdapterHint(%q, %q) = %q but upper case gives %q", vid, pid, got, up)
		}
	})
}

func TestList(t *testing.T) {
	ports, err := List()
	if err != nil {
		t.Fatalf("List() = %v", err)
	}
	for i, p := range ports {
		if !strings.HasPrefix(p.Path, "/dev/") {
			t.Errorf("List()[%d].Path = %q, want a /dev path", i, p.Path)
		}
		if i > 0 && ports[i-1].Path >= p.Path {
			t.Errorf("List() not sorted by path: %q before %q", ports[i-1].Path, p.Path)
		}
		if want := AdapterHint(p.VID, p.PID); p.Hint != want {
			t.Errorf("List()[%d] %s: Hint = %q, want AdapterHint(%q, %q) = %q", i, p.Path, p.Hint, p.VID, p.PID, want)
		}
		if p.VID != strings.ToLower(p.VID) || p.PID != strings.ToLower(p.PID) {
			t.Errorf("List()[%d] %s: VID:PID = %s:%s, want lower case", i, p.Path, p.VID, p.PID)
		}
		if !p.USB && (p.VID != "" || p.PID != "") {
			t.Errorf("List()[%d] %s: not USB but has VID:PID %s:%s", i, p.Path, p.VID, p.PID)
		}
	}
	t.Logf("List() = %+v", ports)
}
