package poll

// maxEntries is darwin's OPEN_MAX (sys/syslimits.h): its poll refuses a
// larger array with EINVAL on every call, whatever RLIMIT_NOFILE allows.
const maxEntries = 10240
