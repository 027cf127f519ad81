package compare

// DefaultRunner runs a point with the load generator; nil in a build
// without one.
var DefaultRunner Runner

// sameProcess tells whether the runner keeps server and generator in one
// process (one descriptor table for both sides).
var sameProcess = false
