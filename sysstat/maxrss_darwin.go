package sysstat

// ru_maxrss is in bytes on darwin, unlike everywhere else.
const maxRSSUnit = 1
