package shop

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		q    string
		want []string
		err  error
	}{
		{"wireless earphones", []string{"wireless", "earphones"}, nil},
		{"  Wireless, NOISE-cancelling   earphones!! ", []string{"wireless", "noise", "cancelling", "earphones"}, nil},
		{"i need a pair of earphones for the gym", []string{"pair", "earphones", "gym"}, nil},
		{"T-Shirt size 10", []string{"t", "shirt", "size", "10"}, nil},
		{"Écouteurs sans-fil", []string{"écouteurs", "sans", "fil"}, nil},
		{"наушники беспроводные", []string{"наушники", "беспроводные"}, nil},
		{"bluetooth 5.3", []string{"bluetooth", "5", "3"}, nil},
		{"", nil, ErrQueryEmpty},
		{"   ", nil, ErrQueryEmpty},
		{"the of and", nil, ErrQueryEmpty},
		{"!!! ???", nil, ErrQueryEmpty},
		{"earphones \xff\xfe", nil, ErrQueryInvalid},
		{strings.Repeat("a", MaxQueryLen), []string{strings.Repeat("a", MaxQueryLen)}, nil},
		{strings.Repeat("a", MaxQueryLen+1), nil, ErrQueryTooLong},
		{strings.Repeat("earphones ", 1024), nil, ErrQueryTooLong},
	}
	for _, tt := range tests {
		got, err := ParseQuery(tt.q)
		if !errors.Is(err, tt.err) || !slices.Equal(got, tt.want) {
			t.Errorf("ParseQuery(%q) = %q, %v, want %q, %v", clip(tt.q, 40), got, err, tt.want, tt.err)
		}
		if err != nil && !strings.Contains(err.Error(), ":") {
			t.Errorf("ParseQuery(%q) error %q says nothing beyond its kind", clip(tt.q, 40), err)
		}
	}
}

func TestStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"earphones", "earphone"}, {"shoes", "shoe"}, {"watches", "watch"}, {"glasses", "glass"},
		{"sunglasses", "sunglass"}, {"wireless", "wireless"}, {"boxes", "box"}, {"gps", "gps"},
		{"bus", "bus"}, {"mats", "mat"}, {"hoodies", "hoodie"},
	}
	for _, tt := range tests {
		if got := stem(tt.in); got != tt.want {
			t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSearchRelevance(t *testing.T) {
	c := testCatalog()
	hits, total, err := c.Search("wireless noise cancelling earphones", 0, 10)
	if err != nil || len(hits) != 10 || total < 10 {
		t.Fatalf("Search = %d hits of %d, %v; want 10 of more", len(hits), total, err)
	}
	for _, p := range hits {
		if p.Category != "earphones" || !slices.Contains(p.Attributes, "wireless") || !slices.Contains(p.Attributes, "noise cancelling") {
			t.Errorf("hit %s %q (%s, %v): want wireless noise cancelling earphones in the top 10", p.ID, p.Title, p.Category, p.Attributes)
		}
	}
	// Plurals fold: the singular finds the same.
	one, n1, _ := c.Search("earphone", 0, 10)
	many, n2, _ := c.Search("earphones", 0, 10)
	if n1 != n2 || !slices.Equal(one, many) {
		t.Errorf("Search(earphone) and Search(earphones) differ: %d vs %d hits", n1, n2)
	}
	// The brand is indexed.
	brand := c.Products()[0].Brand
	hits, _, _ = c.Search(brand, 0, 5)
	for _, p := range hits {
		if p.Brand != brand {
			t.Errorf("Search(%q) found %s of brand %q", brand, p.ID, p.Brand)
		}
	}
}

func TestSearchPaging(t *testing.T) {
	c := testCatalog()
	const q = "black running shoes"
	all, total, err := c.Search(q, 0, 50)
	if err != nil || len(all) != 50 {
		t.Fatalf("Search(%q, 0, 50) = %d hits, %v", q, len(all), err)
	}
	var paged []*Product
	for off := 0; off < 50; off += 10 {
		hits, tot, err := c.Search(q, off, 10)
		if err != nil || tot != total {
			t.Fatalf("Search(%q, %d, 10): total %d, %v; want %d", q, off, tot, err, total)
		}
		paged = append(paged, hits...)
	}
	if !slices.Equal(all, paged) {
		t.Errorf("five pages of 10 differ from one page of 50")
	}
	// Ties go to the smaller id: equal scores never reorder.
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Title == b.Title && a.ID > b.ID {
			t.Errorf("tie %s before %s, want the smaller id first", a.ID, b.ID)
		}
	}
	again, _, _ := c.Search(q, 0, 50)
	if !slices.Equal(all, again) {
		t.Errorf("the same search twice gave different rankings")
	}
	hits, tot, err := c.Search(q, total, 10)
	if err != nil || len(hits) != 0 || tot != total {
		t.Errorf("Search past the end = %d hits of %d, %v; want none of %d", len(hits), tot, err, total)
	}
}

func TestSearchErrors(t *testing.T) {
	c := testCatalog()
	if hits, total, err := c.Search("zzzqqq xyzzy", 0, 10); err != nil || total != 0 || len(hits) != 0 {
		t.Errorf("Search(unknown words) = %d hits of %d, %v; want none and no error", len(hits), total, err)
	}
	for _, tt := range []struct{ off, lim int }{{-1, 10}, {0, 0}, {0, MaxSearchLimit + 1}} {
		if _, _, err := c.Search("earphones", tt.off, tt.lim); err == nil {
			t.Errorf("Search(earphones, %d, %d) = nil error, want one", tt.off, tt.lim)
		}
	}
	if _, _, err := c.Search(strings.Repeat("x", 10<<10), 0, 10); !errors.Is(err, ErrQueryTooLong) {
		t.Errorf("Search(10 KB) = %v, want ErrQueryTooLong", err)
	}
}

// FuzzParseQuery: any string gives words or a clear error, never a panic;
// the words are lower case, non-empty and searchable.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"wireless earphones", "", "the", "\xff", "Écouteurs", "t-shirt 10", strings.Repeat("a ", 300), "a\u0301b", "İstanbul"} {
		f.Add(s)
	}
	c := NewCatalog(3, 200)
	f.Fuzz(func(t *testing.T, q string) {
		words, err := ParseQuery(q)
		if err != nil {
			if words != nil {
				t.Errorf("ParseQuery(%q) = %q with error %v, want no words", q, words, err)
			}
			if !errors.Is(err, ErrQueryTooLong) && !errors.Is(err, ErrQueryInvalid) && !errors.Is(err, ErrQueryEmpty) {
				t.Errorf("ParseQuery(%q) error %v is none of the documented ones", q, err)
			}
			if !utf8.ValidString(err.Error()) {
				t.Errorf("ParseQuery(%q) error is not valid UTF-8", q)
			}
			return
		}
		if len(q) > MaxQueryLen || !utf8.ValidString(q) || len(words) == 0 {
			t.Errorf("ParseQuery(%q) = %q, nil; want an error", q, words)
		}
		for _, w := range words {
			if w == "" || stopWords[w] || strings.ContainsAny(w, " \t\n") {
				t.Errorf("ParseQuery(%q) has word %q", q, w)
			}
		}
		if _, _, err := c.Search(q, 0, 10); err != nil {
			t.Errorf("Search(%q) = %v after ParseQuery accepted it", q, err)
		}
	})
}

// benchQueries are searches as agents write them.
var benchQueries = []string{
	"wireless noise cancelling earphones black",
	"running shoes size 10 breathable",
	"insulated water bottle 32 oz",
	"ergonomic office chair lumbar support",
	"polarized sunglasses",
	"cotton t-shirt crew neck navy",
	"laptop backpack anti theft",
	"programmable coffee maker thermal carafe",
	"dimmable desk lamp usb charging port",
	"smart watch heart rate monitor gps waterproof",
	"non slip yoga mat extra thick",
	"portable speaker deep bass",
}

// BenchmarkSearch times one search (a page of 10) at 2,000 and 100,000
// products and reports the median and the 90th percentile.
//
//	go test -run '^$' -bench Search -benchtime 2000x ./env/shop/
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{2_000, 100_000} {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			c := NewCatalog(1, n)
			var ts []time.Duration
			i := 0
			for b.Loop() {
				q := benchQueries[i%len(benchQueries)]
				i++
				t0 := time.Now()
				if _, _, err := c.Search(q, 0, ResultsPerPage); err != nil {
					b.Fatal(err)
				}
				ts = append(ts, time.Since(t0))
			}
			reportTimings(b, ts)
		})
	}
}

func reportTimings(b *testing.B, ts []time.Duration) {
	if len(ts) == 0 {
		return
	}
	slices.Sort(ts)
	b.ReportMetric(float64(ts[len(ts)/2].Nanoseconds())/1e6, "median-ms")
	b.ReportMetric(float64(ts[len(ts)*9/10].Nanoseconds())/1e6, "p90-ms")
}

// BenchmarkCatalogMemory builds a 100,000-product catalog (and, with the
// store, its tasks) and reports the live heap it holds and the build time.
//
//	go test -run '^$' -bench Memory -benchtime 1x ./env/shop/
func BenchmarkCatalogMemory(b *testing.B) {
	b.Run("catalog", func(b *testing.B) {
		for b.Loop() {
			heap, dt := measureHeap(func() any { return NewCatalog(1, 100_000) })
			b.ReportMetric(heap/1e6, "heap-MB")
			b.ReportMetric(dt.Seconds(), "build-s")
		}
	})
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			heap, dt := measureHeap(func() any {
				s, err := NewStore(StoreOptions{Seed: 1, Products: 100_000})
				if err != nil {
					b.Fatal(err)
				}
				return s
			})
			b.ReportMetric(heap/1e6, "heap-MB")
			b.ReportMetric(dt.Seconds(), "build-s")
		}
	})
}

// measureHeap returns the growth of the live heap while build's result is
// alive, and build's duration.
func measureHeap(build func() any) (float64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	v := build()
	dt := time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc), dt
}
