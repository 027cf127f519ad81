package chart

import (
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
