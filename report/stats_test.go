package report

import "testing"

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{5, 1, 3, 9})
	if s.Med != 4 || s.Min != 1 || s.Max != 9 || s.N != 4 {
		t.Errorf("%+v", s)
	}
	if s := Summarize([]float64{2, 7, 1}); s.Med != 2 {
		t.Errorf("%+v", s)
	}
}

func TestSummarizeInterval(t *testing.T) {
	few := Summarize([]float64{3, 1, 2})
	if few.CI || few.Lo != 1 || few.Hi != 3 || few.Range() != "min-max" {
		t.Errorf("3 values: %+v, want min-max as the range", few)
	}
	var vs []float64
	for i := 1; i <= 20; i++ {
		vs = append(vs, float64(i))
	}
	many := Summarize(vs)
	if !many.CI || many.Range() != "95% CI" {
		t.Fatalf("20 values: %+v, want a confidence interval", many)
	}
	// The median's interval lies inside the data and around the median,
	// narrower than min-max.
	if !(many.Min < many.Lo && many.Lo <= many.Med && many.Med <= many.Hi && many.Hi < many.Max) {
		t.Errorf("20 values: %+v", many)
	}
}
