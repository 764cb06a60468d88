package clean

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
	"golang.org/x/net/html"
)

var (
	benchOnce  sync.Once
	benchPages []string
	benchBytes int64
)

// sharePages is every assistant turn of the sample as share-page HTML.
func sharePages(b *testing.B) ([]string, int64) {
	benchOnce.Do(func() {
		for _, s := range sampleGPTTurns(b) {
			p := sharePage(b, s)
			benchPages = append(benchPages, p)
			benchBytes += int64(len(p))
		}
	})
	if len(benchPages) == 0 {
		b.Skip("no sample")
	}
	return benchPages, benchBytes
}

// cpuTime is the process's user+system CPU time so far.
func benchCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds MB of HTML per CPU-second (GC included), a figure that
// stays put on a machine shared with other work, where wall-clock MB/s
// does not.
func reportCPU(b *testing.B, start time.Duration, n int64) {
	if d := benchCPUTime() - start; d > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkMarkdown: this package's converter, one goroutine (MB/s per
// core).
func BenchmarkMarkdown(b *testing.B) {
	pages, n := sharePages(b)
	c := NewConverter()
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	start := benchCPUTime()
	defer func() { reportCPU(b, start, n) }()
	for i := 0; i < b.N; i++ {
		for _, p := range pages {
			if _, err := c.Markdown(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMarkdownParallel: the same on every core (GOMAXPROCS goroutines).
func BenchmarkMarkdownParallel(b *testing.B) {
	pages, n := sharePages(b)
	c := NewConverter()
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	start := benchCPUTime()
	defer func() { reportCPU(b, start, n) }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for _, p := range pages {
				if _, err := c.Markdown(p); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
}

// BenchmarkHTMLToMarkdownV2: html-to-markdown v2.5.2 with its table plugin on
// the same input, one goroutine, for comparison.
func BenchmarkHTMLToMarkdownV2(b *testing.B) {
	pages, n := sharePages(b)
	conv := converter.NewConverter(converter.WithPlugins(
		base.NewBasePlugin(), commonmark.NewCommonmarkPlugin(), table.NewTablePlugin()))
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	start := benchCPUTime()
	defer func() { reportCPU(b, start, n) }()
	for i := 0; i < b.N; i++ {
		for _, p := range pages {
			if _, err := conv.ConvertString(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkHTMLParse: x/net/html's tree builder alone, the floor of any
// DOM-based converter.
func BenchmarkHTMLParse(b *testing.B) {
	pages, n := sharePages(b)
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	start := benchCPUTime()
	defer func() { reportCPU(b, start, n) }()
	for i := 0; i < b.N; i++ {
		for _, p := range pages {
			if _, err := html.Parse(strings.NewReader(p)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
