package switchboard

import "time"

// TimeFormat is the wire format of every time: UTC, exactly six fraction
// digits and Z (CONTRACT §0.2).
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// NormalizeTime converts t to UTC truncated to microseconds, the precision
// both storage engines keep, so values round-trip equal.
func NormalizeTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// FormatTime writes t in TimeFormat.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}

// ParseTime accepts RFC 3339 with any offset and any number of fraction
// digits and normalizes it.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return NormalizeTime(t), nil
}
