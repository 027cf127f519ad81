package chart

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// decodeHist reads a result's histogram (HdrHistogram V2, base64).
func decodeHist(s string) (*hdrhistogram.Histogram, error) {
	return hdrhistogram.Decode([]byte(s))
}

// offsetPlotter shifts a plotter sideways by a fixed length, so error bars
// sit on bars that were offset within their group.
type offsetPlotter struct {
	p   plot.Plotter
	off vg.Length
}

func (o offsetPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	c.Min.X += o.off
	c.Max.X += o.off
	o.p.Plot(c, p)
}

// DataRange lets the axes make room for the shifted plotter.
func (o offsetPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	if dr, ok := o.p.(plot.DataRanger); ok {
		return dr.DataRange()
	}
	return math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
}
