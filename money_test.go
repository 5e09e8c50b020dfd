package switchboard_test

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"

	sb "github.com/switchboard-voice/switchboard"
)

// TestMoneyString checks the wire form of amounts: the shortest exact
// decimal, no exponent, no trailing zeros (CONTRACT §0.4).
func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    sb.Money
		want string
	}{
		{0, "0"},
		{1, "0.000001"},
		{-1, "-0.000001"},
		{10, "0.00001"},
		{6_500, "0.0065"},
		{500_000, "0.5"},
		{1_000_000, "1"},
		{12_500_000, "12.5"},
		{-12_500_000, "-12.5"},
		{12_340_000, "12.34"},
		{1_250_500_000, "1250.5"},
		{1_000_000 * 1_000_000, "1000000"},
		{-1_000_000 * 1_000_000, "-1000000"},
		{123_456_789, "123.456789"},
		{sb.MaxMoney, "9000000000000"},
		{-sb.MaxMoney, "-9000000000000"},
		{sb.MaxMoney - 1, "8999999999999.999999"},
		// Out of the accepted range but must still print exactly.
		{math.MaxInt64, "9223372036854.775807"},
		{math.MinInt64, "-9223372036854.775808"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("Money(%d).String() = %q, want %q", int64(tt.m), got, tt.want)
		}
	}
}

// TestParseMoney checks that JSON number texts are parsed exactly and that
// anything with more than six fraction digits or beyond ±9e12 is refused.
func TestParseMoney(t *testing.T) {
	ok := []struct {
		in   string
		want sb.Money
	}{
		{"0", 0},
		{"-0", 0},
		{"0.0", 0},
		{"0e5", 0},
		{"12.5", 12_500_000},
		{"-12.5", -12_500_000},
		{"0.000001", 1},
		{"-0.000001", -1},
		{"0.0065", 6_500},
		{"1", 1_000_000},
		{"1e2", 100_000_000},
		{"1E2", 100_000_000},
		{"1e+2", 100_000_000},
		{"1.5e-3", 1_500},
		{"1e-6", 1},
		{"15e-6", 15},
		{"12.0000000", 12_000_000},
		{"12.000000000000000000000000", 12_000_000},
		{"0.0000010", 1},
		{"1000000", 1_000_000 * 1_000_000},
		{"9000000000000", sb.MaxMoney},
		{"-9000000000000", -sb.MaxMoney},
		{"9e12", sb.MaxMoney},
		{"8999999999999.999999", sb.MaxMoney - 1},
		{"1000000000000000000000000000000e-30", 1_000_000},
	}
	for _, tt := range ok {
		got, err := sb.ParseMoney(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}

	bad := []string{
		"",
		"abc",
		"0.0000001",
		"-0.0000001",
		"1e-7",
		"1.0000005",
		"15e-7",
		"1.",   // regression: an empty fraction was once accepted
		"1.e2", // regression: same cause
		".5",
		"-.5",
		"--1",
		"-",
		"+1",
		"1e",
		"e5",
		"1e2.5",
		"0x10",
		"1_000",
		" 1",
		"1 ",
		"1,5",
		"NaN",
		"Infinity",
		"9000000000000.000001",
		"-9000000000000.000001",
		"9000000000001",
		"9.1e12",
		"1e13",
		"9223372036854.775807",
		"99999999999999999999999",
		"1e31",
		"1e-31",
		"1e99999999999999999999",
	}
	for _, in := range bad {
		if got, err := sb.ParseMoney(in); !errors.Is(err, sb.ErrMoneyFormat) {
			t.Errorf("ParseMoney(%q) = %d, %v; want ErrMoneyFormat", in, got, err)
		}
	}
}

// TestMoneyRoundTrip checks that every printed amount parses back to itself.
func TestMoneyRoundTrip(t *testing.T) {
	for _, m := range []sb.Money{0, 1, -1, 6_500, 12_500_000, -12_500_000, 999_999, 1_000_001, 123_456_789_012, sb.MaxMoney, -sb.MaxMoney, sb.MaxMoney - 1} {
		got, err := sb.ParseMoney(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", m.String(), got, err, int64(m))
		}
	}
	for _, in := range []string{"12.5", "0.000001", "1e2", "1.5e-3", "12.0000000", "-7.25", "9e12"} {
		m, err := sb.ParseMoney(in)
		if err != nil {
			t.Fatalf("ParseMoney(%q): %v", in, err)
		}
		again, err := sb.ParseMoney(m.String())
		if err != nil || again != m {
			t.Errorf("round trip of %q via %q = %d, %v; want %d", in, m.String(), again, err, int64(m))
		}
	}
}

// TestMoneyJSON checks that amounts are written as JSON numbers and that
// only JSON numbers are read.
func TestMoneyJSON(t *testing.T) {
	type body struct {
		Amount sb.Money `json:"amount"`
	}
	for _, tt := range []struct {
		m    sb.Money
		want string
	}{
		{0, `{"amount":0}`},
		{12_500_000, `{"amount":12.5}`},
		{6_500, `{"amount":0.0065}`},
		{-1, `{"amount":-0.000001}`},
		{1_000_000 * 1_000_000, `{"amount":1000000}`},
	} {
		b, err := json.Marshal(body{tt.m})
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%d) = %s, %v; want %s", int64(tt.m), b, err, tt.want)
		}
		var back body
		if err := json.Unmarshal(b, &back); err != nil || back.Amount != tt.m {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", b, back.Amount, err, int64(tt.m))
		}
	}

	for _, tt := range []struct {
		in   string
		want sb.Money
	}{
		{`12.5`, 12_500_000},
		{`1e2`, 100_000_000},
		{`0.000001`, 1},
		{`-3`, -3_000_000},
	} {
		var m sb.Money
		if err := json.Unmarshal([]byte(tt.in), &m); err != nil || m != tt.want {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", tt.in, m, err, tt.want)
		}
	}

	for _, in := range []string{
		`"1"`, // regression: a numeric string was once accepted; amounts are never strings (§0.4)
		`"12.5"`,
		`"abc"`,
		`null`,
		`true`,
		`[]`,
		`{}`,
		`0.0000001`,
		`1e13`,
	} {
		m := sb.Money(42)
		err := m.UnmarshalJSON([]byte(in))
		if err == nil {
			t.Errorf("UnmarshalJSON(%s) = %d, nil; want an error", in, m)
		}
		if m != 42 {
			t.Errorf("UnmarshalJSON(%s) changed the value to %d", in, m)
		}
	}
}

// FuzzParseMoney checks that ParseMoney never panics, that everything it
// accepts is within ±MaxMoney, and that the printed form of an accepted
// amount parses back to the same value.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "12.5", "-12.5", "0.000001", "1e2", "1.5e-3", "12.0000000", "9000000000000",
		"-9000000000000", "0.0000001", "1e-7", "abc", "", "1.", ".5", "--1", "1e30", "8999999999999.999999",
		"1000000000000000000000000000000e-30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := sb.ParseMoney(s)
		if err != nil {
			if m != 0 {
				t.Fatalf("ParseMoney(%q) = %d with error %v; want 0", s, m, err)
			}
			return
		}
		if m > sb.MaxMoney || m < -sb.MaxMoney {
			t.Fatalf("ParseMoney(%q) = %d, beyond ±MaxMoney", s, m)
		}
		out := m.String()
		again, err := sb.ParseMoney(out)
		if err != nil || again != m {
			t.Fatalf("ParseMoney(%q) = %d; its String %q re-parses to %d, %v", s, m, out, again, err)
		}
		// The printed form is a valid JSON number and reads back the same.
		var viaJSON sb.Money
		if err := json.Unmarshal([]byte(out), &viaJSON); err != nil || viaJSON != m {
			t.Fatalf("json.Unmarshal(%s) = %d, %v; want %d", out, viaJSON, err, m)
		}
		// An accepted text that is a plain integer must mean that many units.
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= -9_000_000_000_000 && n <= 9_000_000_000_000 && m != sb.Money(n)*1_000_000 {
			t.Fatalf("ParseMoney(%q) = %d; want %d", s, m, n*1_000_000)
		}
	})
}
