// Command chart draws the growth chart of the benchmarks as a PNG, with the
// standard library only (a built-in 5×7 bitmap font, see font.go):
// wall time and peak RSS against the number of items, on a logarithmic
// item axis, one line per series.
//
//	chart -i out/growth.tsv -o growth.png -ideal run=0.0005 -target 64=run -target 100=backfill
//
// The input has one point a line, tab-separated: series, items, wall time
// in seconds, peak RSS in MB. Lines starting with # are skipped. -ideal
// NAME=S draws the ideal wall time of series NAME (S seconds an item) as a
// dashed line; -target MB=NAME draws a memory target as a dashed line.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// point is one measurement.
type point struct {
	items       float64
	wall, rssMB float64
}

// series is the points of one kind of run, by items.
type series struct {
	name   string
	points []point
	color  color.RGBA
}

var (
	white   = color.RGBA{255, 255, 255, 255}
	black   = color.RGBA{30, 30, 30, 255}
	grey    = color.RGBA{150, 150, 150, 255}
	light   = color.RGBA{228, 228, 228, 255}
	palette = []color.RGBA{{31, 119, 180, 255}, {230, 120, 20, 255}, {44, 160, 44, 255}, {200, 40, 40, 255}}
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	log.SetFlags(0)
	log.SetPrefix("chart: ")
	in := flag.String("i", "", "the points (TSV: series, items, wall seconds, peak RSS MB)")
	out := flag.String("o", "growth.png", "the PNG to write")
	title := flag.String("title", "tracebatch: wall time and peak RSS against items", "the chart's title")
	var ideals, targets, labels multiFlag
	flag.Var(&ideals, "ideal", "NAME=SECONDS: ideal wall time of series NAME, seconds per item (repeatable)")
	flag.Var(&targets, "target", "MB=NAME: a peak-RSS target for series NAME (repeatable)")
	flag.Var(&labels, "label", "NAME=TEXT: the legend text of series NAME (repeatable)")
	flag.Parse()
	if *in == "" {
		log.Fatal("usage: chart -i POINTS.tsv -o CHART.png [-ideal NAME=S] [-target MB=NAME] [-label NAME=TEXT]")
	}
	ss, err := readSeries(*in)
	if err != nil {
		log.Fatal(err)
	}
	legend := pairs(labels)
	img := draw(*title, ss, pairs(ideals), pairs(targets), legend)
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// pairs splits KEY=VALUE flags.
func pairs(m multiFlag) map[string]string {
	out := map[string]string{}
	for _, v := range m {
		k, val, _ := strings.Cut(v, "=")
		out[k] = val
	}
	return out
}

// readSeries reads the points file, keeping the series in their order of
// first appearance.
func readSeries(path string) ([]*series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ss []*series
	byName := map[string]*series{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "\t")
		if len(fs) != 4 {
			return nil, fmt.Errorf("%s:%d: want 4 tab-separated fields, got %d", path, n, len(fs))
		}
		var p point
		for i, dst := range []*float64{&p.items, &p.wall, &p.rssMB} {
			if *dst, err = strconv.ParseFloat(fs[i+1], 64); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
		}
		s := byName[fs[0]]
		if s == nil {
			s = &series{name: fs[0], color: palette[len(ss)%len(palette)]}
			byName[fs[0]] = s
			ss = append(ss, s)
		}
		s.points = append(s.points, p)
	}
	for _, s := range ss {
		sort.Slice(s.points, func(i, j int) bool { return s.points[i].items < s.points[j].items })
	}
	return ss, sc.Err()
}

// Layout of the picture.
const (
	width, height = 1280, 600
	panelTop      = 120
	panelBottom   = height - 80
	scale         = 2 // font scale
)

// panel is one plot area and its axes.
type panel struct {
	x0, x1, y0, y1 int // plot area: x0 left, y0 top
	xmin, xmax     float64
	ymin, ymax     float64
	logY           bool
}

// px maps items to a column.
func (p panel) px(items float64) int {
	f := (math.Log10(items) - math.Log10(p.xmin)) / (math.Log10(p.xmax) - math.Log10(p.xmin))
	return p.x0 + int(f*float64(p.x1-p.x0))
}

// py maps a value to a row.
func (p panel) py(v float64) int {
	var f float64
	if p.logY {
		f = (math.Log10(v) - math.Log10(p.ymin)) / (math.Log10(p.ymax) - math.Log10(p.ymin))
	} else {
		f = (v - p.ymin) / (p.ymax - p.ymin)
	}
	return p.y1 - int(f*float64(p.y1-p.y0))
}

func draw(title string, ss []*series, ideals, targets, legend map[string]string) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fillRect(img, 0, 0, width, height, white)
	drawText(img, (width-textWidth(title, 3))/2, 18, title, 3, black)

	// The legend, under the title.
	x := 90
	for _, s := range ss {
		text := s.name
		if l, ok := legend[s.name]; ok {
			text = l
		}
		fillRect(img, x, 68, 24, 6, s.color)
		drawText(img, x+32, 64, text, scale, black)
		x += 32 + textWidth(text, scale) + 48
	}

	xmin, xmax := math.Inf(1), math.Inf(-1)
	wmin, wmax, rmax := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range ss {
		for _, p := range s.points {
			xmin, xmax = math.Min(xmin, p.items), math.Max(xmax, p.items)
			wmin, wmax = math.Min(wmin, p.wall), math.Max(wmax, p.wall)
			rmax = math.Max(rmax, p.rssMB)
		}
	}
	for mb := range targets {
		if v, err := strconv.ParseFloat(mb, 64); err == nil {
			rmax = math.Max(rmax, v)
		}
	}
	xmin, xmax = decadeBelow(xmin)/2, decadeAbove(xmax)*2
	wall := panel{x0: 110, x1: width/2 - 40, y0: panelTop, y1: panelBottom,
		xmin: xmin, xmax: xmax, ymin: decadeBelow(wmin), ymax: decadeAbove(wmax), logY: true}
	rss := panel{x0: width/2 + 110, x1: width - 40, y0: panelTop, y1: panelBottom,
		xmin: xmin, xmax: xmax, ymin: 0, ymax: math.Ceil(rmax*1.15/20) * 20}

	axes(img, wall, "wall time (s)")
	axes(img, rss, "peak RSS (MB)")

	for _, s := range ss {
		if v, ok := ideals[s.name]; ok {
			if per, err := strconv.ParseFloat(v, 64); err == nil {
				a, b := s.points[0].items, s.points[len(s.points)-1].items
				dashed(img, wall.px(a), wall.py(a*per), wall.px(b), wall.py(b*per), s.color)
				t := "dashed: ideal, items ÷ j × latency"
				drawText(img, wall.x1-textWidth(t, scale)-8, wall.y1-24, t, scale, s.color)
			}
		}
	}
	for mb, name := range targets {
		v, err := strconv.ParseFloat(mb, 64)
		if err != nil {
			continue
		}
		c := grey
		for _, s := range ss {
			if s.name == name {
				c = s.color
			}
		}
		y := rss.py(v)
		dashed(img, rss.x0, y, rss.x1, y, c)
		label := fmt.Sprintf("%s target %s MB", name, mb)
		drawText(img, rss.x0+10, y-18, label, scale, c)
	}
	for _, s := range ss {
		plot(img, wall, s, func(p point) float64 { return p.wall }, func(v float64) string { return fmtSeconds(v) })
		plot(img, rss, s, func(p point) float64 { return p.rssMB }, func(v float64) string { return fmt.Sprintf("%.0f", v) })
	}
	return img
}

// plot draws a series' line, its points and their values.
func plot(img *image.RGBA, p panel, s *series, val func(point) float64, label func(float64) string) {
	for i, pt := range s.points {
		x, y := p.px(pt.items), p.py(val(pt))
		if i > 0 {
			prev := s.points[i-1]
			line(img, p.px(prev.items), p.py(val(prev)), x, y, s.color, 3)
		}
		fillRect(img, x-5, y-5, 11, 11, s.color)
		t := label(val(pt))
		drawText(img, x-textWidth(t, scale)/2, y-26, t, scale, s.color)
	}
}

// axes draws the frame, grid, ticks and labels of a panel.
func axes(img *image.RGBA, p panel, ylabel string) {
	for d := decadeAbove(p.xmin); d <= p.xmax; d *= 10 {
		x := p.px(d)
		line(img, x, p.y0, x, p.y1, light, 1)
		t := itemsLabel(d)
		drawText(img, x-textWidth(t, scale)/2, p.y1+12, t, scale, black)
	}
	if p.logY {
		for d := p.ymin; d <= p.ymax*1.0001; d *= 10 {
			y := p.py(d)
			line(img, p.x0, y, p.x1, y, light, 1)
			t := fmtSeconds(d)
			drawText(img, p.x0-12-textWidth(t, scale), y-7, t, scale, black)
		}
	} else {
		step := niceStep(p.ymax - p.ymin)
		for v := p.ymin; v <= p.ymax+1e-9; v += step {
			y := p.py(v)
			line(img, p.x0, y, p.x1, y, light, 1)
			t := fmt.Sprintf("%.0f", v)
			drawText(img, p.x0-12-textWidth(t, scale), y-7, t, scale, black)
		}
	}
	line(img, p.x0, p.y0, p.x0, p.y1, black, 2)
	line(img, p.x0, p.y1, p.x1, p.y1, black, 2)
	xl := "items (log scale)"
	drawText(img, (p.x0+p.x1-textWidth(xl, scale))/2, p.y1+40, xl, scale, black)
	drawTextUp(img, p.x0-90, (p.y0+p.y1+textWidth(ylabel, scale))/2, ylabel, scale, black)
}

// niceStep picks a grid step giving four to ten lines over span.
func niceStep(span float64) float64 {
	for _, s := range []float64{5, 10, 20, 25, 50, 100, 200, 250, 500, 1000} {
		if span/s <= 10 {
			return s
		}
	}
	return span / 10
}

func decadeBelow(v float64) float64 { return math.Pow(10, math.Floor(math.Log10(v))) }
func decadeAbove(v float64) float64 { return math.Pow(10, math.Ceil(math.Log10(v))) }

// itemsLabel writes 1000 as 1K, 1000000 as 1M.
func itemsLabel(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gK", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}

// fmtSeconds writes a duration in seconds with sensible precision.
func fmtSeconds(v float64) string {
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	case v >= 0.1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// line draws a line of the given thickness (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color, thick int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		fillRect(img, x0-thick/2, y0-thick/2, thick, thick, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// dashed draws a dashed line, 10 pixels on, 8 off.
func dashed(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	n := int(math.Hypot(float64(x1-x0), float64(y1-y0)))
	for i := 0; i < n; i += 18 {
		j := min(i+10, n)
		ax := x0 + (x1-x0)*i/max(n, 1)
		ay := y0 + (y1-y0)*i/max(n, 1)
		bx := x0 + (x1-x0)*j/max(n, 1)
		by := y0 + (y1-y0)*j/max(n, 1)
		line(img, ax, ay, bx, by, c, 2)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
