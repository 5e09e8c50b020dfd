package switchboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Money is an amount in micro-units (10⁻⁶ of the currency unit). It is
// never a float: JSON input is parsed from its decimal text and output is
// written as the shortest exact decimal (CONTRACT §0.4).
type Money int64

// MaxMoney is the largest accepted |amount| in micro-units (9e12 units).
const MaxMoney Money = 9_000_000_000_000 * 1_000_000

// String writes m as the shortest exact decimal: 0, 12.5, 0.0065.
func (m Money) String() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = uint64(-m)
	}
	whole, frac := u/1_000_000, u%1_000_000
	s := strconv.FormatUint(whole, 10)
	if frac != 0 {
		f := strconv.FormatUint(frac+1_000_000, 10)[1:] // six digits with leading zeros
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON writes m as a JSON number.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// ErrMoneyFormat is returned for amounts that are not decimal numbers with
// at most six fraction digits within ±9e12.
var ErrMoneyFormat = errors.New("amount must be a number with at most 6 decimal places and magnitude at most 9000000000000")

// ParseMoney parses a JSON number text (e.g. from json.Number) exactly.
// Exponents are accepted when the value stays exact in micro-units.
func ParseMoney(s string) (Money, error) {
	if s == "" {
		return 0, ErrMoneyFormat
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 30 || e < -30 {
			return 0, ErrMoneyFormat
		}
		exp, s = e, s[:i]
	}
	intPart, fracPart, dot := strings.Cut(s, ".")
	if intPart == "" || (dot && fracPart == "") || !allDigits(intPart) || !allDigits(fracPart) {
		return 0, ErrMoneyFormat
	}
	digits := strings.TrimLeft(intPart+fracPart, "0")
	scale := len(fracPart) - exp // value = digits × 10^-scale
	if digits == "" {
		return 0, nil
	}
	// Drop trailing zeros that only add precision.
	for scale > 6 && strings.HasSuffix(digits, "0") {
		digits, scale = digits[:len(digits)-1], scale-1
	}
	if scale > 6 || len(digits)+6-scale > 19 {
		return 0, ErrMoneyFormat
	}
	for ; scale < 6; scale++ {
		digits += "0"
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || Money(v) > MaxMoney {
		return 0, ErrMoneyFormat
	}
	if neg {
		v = -v
	}
	return Money(v), nil
}

// UnmarshalJSON accepts only JSON numbers.
func (m *Money) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '"' {
		return ErrMoneyFormat // amounts are never strings (CONTRACT §0.4)
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return ErrMoneyFormat
	}
	v, err := ParseMoney(string(n))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
