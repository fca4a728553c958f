package web

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/opsbot/opsbot/store"
)

// The dependency graph is an SVG laid out by the server in layers: a service sits one row above the
// deepest of the services it depends on, so the foundations (storage) are the bottom row and what users
// touch is at the top, and every arrow ("depends on") points down. Within a row, services are ordered by
// where their neighbours are (a few barycentre sweeps), which keeps most arrows short and uncrossed. An
// edge that closes a cycle is drawn as it comes and does not raise a row.

// Graph geometry.
const (
	nodeHeight = 28
	rowGap     = 56
	nodeGap    = 18
	graphPad   = 16
	charWidth  = 7.4 // of the 12px label font
	// maxGraphNodes is the most services drawn at once; a larger catalogue is drawn around one service.
	maxGraphNodes = 120
)

// graph is a laid-out dependency graph.
type graph struct {
	Width, Height float64
	Nodes         []gnode
	Edges         []gedge
	Desc          string
}

// gnode is one service's box.
type gnode struct {
	Name       string
	X, Y, W, H float64
	TX, TY     float64 // the label's anchor
	Class      string  // "", focus, impact (fails with the focus), dep (the focus depends on it)
	Href       string
}

// gedge is one "depends on" arrow.
type gedge struct {
	D     string // the path
	Class string // "", impact (along an impact path), dep
	Title string
}

// highlight says how to mark a graph around a focus service: the services that fail with it (!impact) and
// the ones it depends on.
type highlight struct {
	Focus  string
	Impact map[string]bool
	Deps   map[string]bool
}

// layoutGraph lays out the services (with their Depends edges; edges to services not in the list are left
// out) and marks h.
func layoutGraph(svcs []store.Service, h highlight) graph {
	names := make([]string, 0, len(svcs))
	deps := map[string][]string{}
	in := map[string]bool{}
	for _, s := range svcs {
		in[s.Name] = true
	}
	for _, s := range svcs {
		names = append(names, s.Name)
		for _, d := range s.Depends {
			if in[d] && d != s.Name {
				deps[s.Name] = append(deps[s.Name], d)
			}
		}
	}
	slices.Sort(names)
	// Layers by the longest chain of dependencies below, ignoring edges that close a cycle.
	layer := map[string]int{}
	state := map[string]int{} // 0 new, 1 in progress, 2 done
	var visit func(n string) int
	visit = func(n string) int {
		switch state[n] {
		case 1:
			return -1 // a cycle: this edge does not count
		case 2:
			return layer[n]
		}
		state[n] = 1
		l := 0
		for _, d := range deps[n] {
			if dl := visit(d); dl >= 0 {
				l = max(l, dl+1)
			}
		}
		state[n], layer[n] = 2, l
		return l
	}
	top := 0
	for _, n := range names {
		top = max(top, visit(n))
	}
	rows := make([][]string, top+1)
	for _, n := range names {
		rows[layer[n]] = append(rows[layer[n]], n)
	}
	// Order within rows: alternate sweeps up and down, each placing a service at the mean position of its
	// neighbours in the row already placed.
	dependents := map[string][]string{}
	for n, ds := range deps {
		for _, d := range ds {
			dependents[d] = append(dependents[d], n)
		}
	}
	pos := map[string]float64{}
	place := func(row []string) {
		for i, n := range row {
			pos[n] = float64(i) / math.Max(1, float64(len(row)-1))
		}
	}
	for _, row := range rows {
		place(row)
	}
	sweep := func(row []string, nbrs map[string][]string) {
		key := map[string]float64{}
		for _, n := range row {
			sum, k := 0.0, 0
			for _, m := range nbrs[n] {
				sum, k = sum+pos[m], k+1
			}
			key[n] = pos[n]
			if k > 0 {
				key[n] = sum / float64(k)
			}
		}
		slices.SortStableFunc(row, func(a, b string) int { return cmp.Compare(key[a], key[b]) })
		place(row)
	}
	for range 4 {
		for i := 1; i < len(rows); i++ {
			sweep(rows[i], deps)
		}
		for i := len(rows) - 2; i >= 0; i-- {
			sweep(rows[i], dependents)
		}
	}
	// Geometry: rows top (highest layer) to bottom, each centred.
	width := func(n string) float64 { return math.Ceil(float64(len(n))*charWidth) + 20 }
	rowWidth := func(row []string) float64 {
		w := 0.0
		for _, n := range row {
			w += width(n) + nodeGap
		}
		return w - nodeGap
	}
	g := graph{}
	for _, row := range rows {
		g.Width = math.Max(g.Width, rowWidth(row))
	}
	g.Width += 2 * graphPad
	g.Height = float64(len(rows))*(nodeHeight+rowGap) - rowGap + 2*graphPad
	box := map[string]gnode{}
	for li, row := range rows {
		y := graphPad + float64(top-li)*(nodeHeight+rowGap)
		x := (g.Width - rowWidth(row)) / 2
		for _, n := range row {
			nd := gnode{Name: n, X: round1(x), Y: y, W: width(n), H: nodeHeight, TX: round1(x + width(n)/2), TY: y + nodeHeight/2 + 4,
				Href: "/services/" + n}
			switch {
			case n == h.Focus:
				nd.Class = "focus"
			case h.Impact[n]:
				nd.Class = "impact"
			case h.Deps[n]:
				nd.Class = "dep"
			}
			box[n] = nd
			g.Nodes = append(g.Nodes, nd)
			x += width(n) + nodeGap
		}
	}
	for _, n := range names {
		for _, d := range deps[n] {
			a, b := box[n], box[d]
			x1, y1 := a.X+a.W/2, a.Y+a.H
			x2, y2 := b.X+b.W/2, b.Y
			if b.Y <= a.Y { // a cycle's back edge, or within a row: leave from the top, arrive at the bottom
				y1, y2 = a.Y, b.Y+b.H
			}
			dy := (y2 - y1) / 2
			if math.Abs(dy) < 20 {
				dy = math.Copysign(40, dy+0.1)
			}
			e := gedge{D: fmt.Sprintf("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, x1, y1+dy, x2, y2-dy, x2, y2),
				Title: n + " depends on " + d}
			switch {
			case (h.Impact[n] || n == h.Focus) && (h.Impact[d] || d == h.Focus):
				e.Class = "impact"
			case n == h.Focus && h.Deps[d]:
				e.Class = "dep"
			}
			g.Edges = append(g.Edges, e)
		}
	}
	g.Desc = fmt.Sprintf("Dependency graph of %d services in %d layers; arrows point from a service to what it depends on.", len(names), len(rows))
	return g
}

// neighbourhood is what a service's graph shows in a catalogue too large to draw whole: the service, what
// fails with it, and what it depends on directly.
func neighbourhood(svcs []store.Service, h highlight) []store.Service {
	var out []store.Service
	for _, s := range svcs {
		if s.Name == h.Focus || h.Impact[s.Name] || h.Deps[s.Name] {
			out = append(out, s)
		}
	}
	return out
}
